import { describe, expect, it } from 'vitest';
import { measure } from '../../scripts/shape.ts';

/** The architecture's limits (docs/architecture.md), measured on src/ by scripts/shape.ts. */
describe('the shape of src/', () => {
  const shape = measure();

  it('nothing below src/cli imports from it', () => {
    expect(shape.upwardImports).toEqual([]);
  });

  it('no import cycle (type imports included)', () => {
    expect(shape.cycles).toEqual([]);
  });

  it('no function over 80 lines; main.ts at most 100', () => {
    expect(shape.longestFunctions.filter((f) => f.lines > 80)).toEqual([]);
    expect(shape.mainLines).toBeLessThanOrEqual(100);
  });
});
