/**
 * Greedy all-pairs covering: a small set of combinations of the axes' values in which every
 * allowed pair of values of two axes appears at least once.
 */

export type Axes = Record<string, readonly unknown[]>;
export type Combination<A extends Axes> = { [K in keyof A]: A[K][number] };

function product<A extends Axes>(axes: A): Combination<A>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(axes)) out = out.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  return out as Combination<A>[];
}

function pairsOf(c: Record<string, unknown>, keys: string[], axes: Axes): string[] {
  const ids: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      const a = keys[i]!;
      const b = keys[j]!;
      ids.push(`${a}=${axes[a]!.indexOf(c[a])}|${b}=${axes[b]!.indexOf(c[b])}`);
    }
  }
  return ids;
}

/** Combinations covering every pair that occurs in some allowed combination; deterministic. */
export function allPairs<A extends Axes>(axes: A, allowed: (c: Combination<A>) => boolean): { cases: Combination<A>[]; pairs: Set<string> } {
  const keys = Object.keys(axes);
  const candidates = product(axes).filter(allowed);
  const pairs = new Set<string>();
  const candidatePairs = candidates.map((c) => pairsOf(c, keys, axes));
  for (const ps of candidatePairs) for (const p of ps) pairs.add(p);
  const uncovered = new Set(pairs);
  const cases: Combination<A>[] = [];
  while (uncovered.size > 0) {
    let best = -1;
    let bestGain = 0;
    candidatePairs.forEach((ps, i) => {
      let gain = 0;
      for (const p of ps) if (uncovered.has(p)) gain++;
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    });
    cases.push(candidates[best]!);
    for (const p of candidatePairs[best]!) uncovered.delete(p);
  }
  return { cases, pairs };
}

/** The pairs a set of combinations covers. */
export function coveredPairs<A extends Axes>(axes: A, cases: readonly Combination<A>[]): Set<string> {
  const keys = Object.keys(axes);
  const out = new Set<string>();
  for (const c of cases) for (const p of pairsOf(c, keys, axes)) out.add(p);
  return out;
}
