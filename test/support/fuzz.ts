/**
 * Sizes and the seed of the property and fuzz tests. `npm test` runs each at its base size with a
 * fixed seed, so a failure reproduces; `npm run test:soak` sets FUZZ_SCALE (default 10 there) to
 * run the same files longer, and FUZZ_SEED tries another part of the input space.
 */
const scale = Number(process.env['FUZZ_SCALE'] ?? '1');
const seed = Number(process.env['FUZZ_SEED'] ?? '20261123');

if (!Number.isFinite(scale) || scale <= 0)
  throw new Error(`FUZZ_SCALE must be a positive number, got ${scale}`);
if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${seed}`);

export const FUZZ_SCALE = scale;
export const FUZZ_SEED = seed;

/** How many inputs a fuzz test tries: its base size in `npm test`, scaled up in a soak. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * scale));
}

/** The test timeout for a fuzz test whose base size takes about `baseMs` when the machine is busy. */
export function fuzzTimeout(baseMs: number): number {
  return Math.max(20_000, Math.round(baseMs * Math.max(1, scale)));
}
