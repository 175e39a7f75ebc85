/**
 * The candidate a mistyped word most likely meant, or undefined: the closest by edit distance
 * (insertions, deletions, substitutions and swaps of neighbours each count 1, so `trian` is 1
 * from `train` and `itres` 1 from `iters`) within a third of its length (at least 1, at most 3),
 * or else the only candidate that starts with it (`compare` → `compare-optimizers`).
 *
 * @example
 * didYouMean('trian', ['train', 'eval']); // 'train'
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d <= bestDistance && !(d === bestDistance && best !== undefined)) [best, bestDistance] = [c, d];
  }
  if (best !== undefined) return best;
  const prefixed = w.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(w)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** ' (did you mean train?)' for a likely typo, else ''. */
export function suggestion(word: string, candidates: readonly string[], prefix = ''): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : `; did you mean ${prefix}${s}?`;
}

/** The optimal string alignment distance (Damerau–Levenshtein with adjacent swaps). */
function editDistance(a: string, b: string): number {
  // d[i][j]: the distance between a[0..i) and b[0..j)
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
