/** One error type for everything the data loaders refuse, with a stable code a caller (or a test) can branch on. */
export type DatasetErrorCode =
  | 'LIVESTEM_DATA_MISSING_FOLDER'
  | 'LIVESTEM_DATA_NO_TRACKS'
  | 'LIVESTEM_DATA_MISSING_STEM'
  | 'LIVESTEM_DATA_WRONG_SAMPLE_RATE'
  | 'LIVESTEM_DATA_MONO'
  | 'LIVESTEM_DATA_LENGTH_MISMATCH'
  | 'LIVESTEM_DATA_BAD_WAV'
  | 'LIVESTEM_DATA_FFMPEG_MISSING'
  | 'LIVESTEM_DATA_DECODE_FAILED';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  /** The file or folder the error is about. */
  readonly path: string;

  constructor(code: DatasetErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(`${message} (${path})`, options);
    this.code = code;
    this.path = path;
  }
}
