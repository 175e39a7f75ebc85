/**
 * A model file that cannot be used: missing, unreadable, corrupt, hostile, or not matching the
 * network it is loaded into. The message names the file and the field (tensor, offset, shape)
 * that is wrong, so the user knows which file to fix or which architecture to choose.
 *
 * @example
 * try {
 *   loadSafetensors('model.safetensors');
 * } catch (e) {
 *   if (e instanceof ModelFileError) console.error(e.message);
 *   // 'model.safetensors: tensor "W1": data_offsets [0, 100] hold 100 bytes but shape [784,50] of F32 needs 156800'
 *   else throw e;
 * }
 */
export class ModelFileError extends Error {
  /** 'ModelFileError', so printed messages and stack traces name the class. */
  override name = 'ModelFileError';
}
