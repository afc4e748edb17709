/**
 * Exit status (CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or configuration (the
 * state database in use by another scan included) · 3 scan incomplete (an item failed; with
 * --strict, also one not read by design) or interrupted (SIGINT/SIGTERM, closed output).
 * A module of its own (re-exported by common.ts): `--version` and usage errors need it without
 * loading the scanner.
 */
export const EXIT = { clean: 0, phiFound: 1, usage: 2, incomplete: 3 } as const;
