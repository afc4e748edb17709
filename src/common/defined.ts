/**
 * `o` without its undefined fields: for a `Partial<T>` whose absent fields mean "the default".
 * Under exactOptionalPropertyTypes an absent field and one set to undefined differ, so a value
 * that may be undefined is put through here once instead of a spread per field.
 */
export function definedOnly<T extends object>(o: { readonly [K in keyof T]?: T[K] | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
