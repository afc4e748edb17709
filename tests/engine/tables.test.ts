/** Table rows split on their delimiter outside double quotes (src/engine/tables.ts). */
import { describe, expect, it } from 'vitest';
import { cellStarts, splitRow } from '../../src/engine/tables.js';

describe('a row split on its delimiter', () => {
  it.each([
    // [row, delimiter, cells, where each cell starts]
    ['a,b,c', ',', ['a', 'b', 'c'], [0, 2, 4]],
    ['"Roe, Jane",03/14/1952,536-90-4399', ',', ['Roe, Jane', '03/14/1952', '536-90-4399'], [0, 12, 23]],
    ['x,,', ',', ['x', '', ''], [0, 2, 3]],
    ['', ',', [''], [0]],
    ['no delimiter here', ',', ['no delimiter here'], [0]],
    ['Name\tDOB\t SSN ', '\t', ['Name', 'DOB', 'SSN'], [0, 5, 9]],
    ['Patient | MRN | "a | b"', '|', ['Patient', 'MRN', 'a | b'], [0, 9, 15]],
  ])('%j on %j', (row, delimiter, cells, starts) => {
    expect(splitRow(row, delimiter)).toEqual({ cells, starts });
    // The same starts read in place, inside a longer text.
    const text = `before\n${row}\nafter`;
    expect(cellStarts(text, 7, 7 + row.length, delimiter)).toEqual(starts);
  });
});
