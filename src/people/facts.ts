/**
 * Category facts, in one place: what each category says about a person, and how reports head it.
 * The state store saves a finding's `identity` with it (state/store.ts), so breach sizing and the
 * recommended action read a stored fact, never a rule id pattern: renaming a rule cannot silently
 * change a breach count (tests/people/facts.test.ts checks every bundled rule against this table).
 *
 * - `direct`: identifies one person by itself (SSN, Medicare ID, a health-plan member ID);
 * - `link`: identifies a person within one organisation (a medical record number): it ties
 *   records of one person together, but a cluster holding only record numbers is not counted;
 * - `quasi`: identifies a person only together with others (a date of birth, with a name);
 * - `context`: says something about a person without pointing at one (conditions, plan data).
 */
import type { Category } from '../model/finding.js';

export type Identity = 'direct' | 'link' | 'quasi' | 'context';
export const IDENTITIES: readonly Identity[] = ['direct', 'link', 'quasi', 'context'];

export interface CategoryFacts {
  /** The identity of the category's findings, unless `byRule` names the rule. */
  readonly identity: Identity;
  /** Rules of the category whose findings have another identity (a member ID among plan data). */
  readonly byRule?: Readonly<Record<string, Identity>>;
  /** Heading in reports. */
  readonly label: string;
  /** Short column heading for narrow tables. */
  readonly short: string;
}

export const CATEGORY_FACTS: Readonly<Record<Category, CategoryFacts>> = {
  ssn: { identity: 'direct', label: 'Social Security number', short: 'SSN' },
  'medicare-id': { identity: 'direct', label: 'Medicare ID', short: 'Medicare' },
  // Group numbers, plan names, Rx BIN/PCN describe a plan shared by many; a member ID is one person.
  insurance: { identity: 'context', byRule: { 'member-id': 'direct' }, label: 'Insurance member ID', short: 'Insurance' },
  'medical-record-number': { identity: 'link', label: 'Medical record number', short: 'MRN' },
  'date-of-birth': { identity: 'quasi', label: 'Date of birth', short: 'DOB' },
  'date-of-death': { identity: 'context', label: 'Date of death', short: 'DOD' },
  'health-condition': { identity: 'context', label: 'Health condition', short: 'Health' },
};

/** What a finding of `rule` in `category` says about a person. */
export function identityOf(rule: string, category: Category): Identity {
  const facts = CATEGORY_FACTS[category];
  return facts.byRule?.[rule] ?? facts.identity;
}

/** SQL for "this finding (alias `f`) identifies a person by itself", on the stored identity. */
export const DIRECT_FINDING_SQL = "f.identity = 'direct'";

/**
 * Rule ids of the `person` context hits (engine `scanAll`) that name a patient. `person-staff`
 * (a signature, a From display name) and `person-title` (`Mrs. Roe`: a surname alone) do not.
 */
export function isPatientName(rule: string): boolean {
  return rule === 'person-name' || rule === 'person-re';
}
