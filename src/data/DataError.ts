/**
 * A data file that cannot be used: missing, unreadable, not IDX, corrupt, truncated, or
 * inconsistent with its partner file. The message names the file and says what is wrong
 * (with the byte offset where one applies), so the user knows which file to fix or re-download.
 *
 * @example
 * try {
 *   loadIdxDataset('./data/mnist');
 * } catch (e) {
 *   if (e instanceof DataError) console.error(e.message); // "cannot read ./data/mnist: no such directory"
 *   else throw e;
 * }
 */
export class DataError extends Error {
  /** 'DataError', so printed messages and stack traces name the class. */
  override name = 'DataError';
}
