/**
 * The server's error type. The catalog it draws from (codes → close code, HTTP status, retryability, default message)
 * is the protocol's (client-sdk/src/protocol/error-catalog.ts), shared with the SDK so both read one table. Dependency
 * errors are mapped to catalog codes at the adapter, keeping the original as `cause`.
 */
import { ERROR_CATALOG } from "../client-sdk/src/protocol/index.js";
export { ERROR_CATALOG, ERROR_CODES, isErrorCode } from "../client-sdk/src/protocol/index.js";
export class LivestemError extends Error {
    name = 'LivestemError';
    code;
    closeCode;
    httpStatus;
    retryable;
    /** `detail` replaces the catalog message when it says something more specific about this occurrence. */
    constructor(code, detail, options) {
        const spec = ERROR_CATALOG[code];
        super(detail ?? spec.message, options);
        this.code = code;
        this.closeCode = spec.closeCode;
        this.httpStatus = spec.httpStatus;
        this.retryable = spec.retryable;
    }
}
/** Maps anything thrown to a catalog error; non-catalog errors become INTERNAL with the original as cause. */
export function toLivestemError(err, fallback = 'LIVESTEM_ERR_INTERNAL') {
    if (err instanceof LivestemError)
        return err;
    return new LivestemError(fallback, undefined, { cause: err });
}
//# sourceMappingURL=errors.js.map