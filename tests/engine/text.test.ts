/**
 * isInsideBlob (engine/text.ts): a value inside a URL, an e-mail address or a base64/hex run is no
 * identifier; a value in an ordinary token (a CSV row, a labelled value) is. A table of texts with
 * the value marked by [ ], must-be-inside and must-not-be-inside.
 */
import { describe, expect, it } from 'vitest';
import { isInsideBlob } from '../../src/engine/text.js';

/** The text without the brackets, and where the bracketed value is. */
function marked(text: string): [string, number, number] {
  const start = text.indexOf('[');
  const end = text.indexOf(']') - 1;
  return [text.replace('[', '').replace(']', ''), start, end];
}

const B64 = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w';
const INSIDE: readonly string[] = [
  'see https://x.example/items/[536904399] now',
  'see http://x.example/a,b,[536904399] now',
  'reply to [536904399]@fax.example.com please',
  'Message-ID: <[536904399].a1@mail.example.org>',
  'www.[536904399].example',
  `data ${B64.slice(0, 20)}[536904399]${B64.slice(0, 20)} end`,
  // A token longer than the reach: only what lies within it counts (a URL scheme at its start is out of reach).
  `${'A'.repeat(300)}[536904399]x://${'A'.repeat(300)}`,
  // The `://` of a token cut at the reach may have its slashes past the cut (commas: no blob).
  `${'x,'.repeat(20)}[536904399]${'x,'.repeat(127)}x://a ok`,
];
const NOT_INSIDE: readonly string[] = [
  'SSN: [536-90-4399]',
  '[536904399]',
  '"Marchbanks, Hattie",05/02/1982,[824-74-9719],6W27M82JH87,H118232066,UnitedHealthcare',
  'Patient Name,DOB,SSN\n"Roe, Jane",03/14/1952,[536-90-4399]\n',
  'mail jane@ and then x,[536904399]',
  `${B64.slice(0, 15)}[536904399]${B64.slice(0, 15)} (39 characters: too short for a blob)`,
  `${B64.slice(0, 20)}[536904399],${B64.slice(0, 20)} (a comma: no blob)`,
  `https://x.example/items/ [536904399]`,
  `https://x.example/${'x,'.repeat(150)}[536904399] (the URL out of reach)`,
  `${'x,'.repeat(20)}[536904399]${'x,'.repeat(128)}://a (the colon past the reach)`,
  'wwx.[536904399].example',
];

describe('isInsideBlob', () => {
  it.each(INSIDE.map((t) => [t.slice(0, 60), t]))('inside: %s', (_name, text) => {
    const [t, start, end] = marked(text);
    expect(isInsideBlob(t, start, end)).toBe(true);
  });
  it.each(NOT_INSIDE.map((t) => [t.slice(0, 60), t]))('not inside: %s', (_name, text) => {
    const [t, start, end] = marked(text);
    expect(isInsideBlob(t, start, end)).toBe(false);
  });
});
