/**
 * Response headers, decoded lazily: a view over the parsed head's offsets
 * (the same view as a request's, see `HeaderFields`).
 *
 * @module
 */
import { HeaderFields } from "../headers.js";

/**
 * The header fields of a response. Names are case-insensitive; nothing
 * becomes a string until a field is asked for.
 *
 * @example
 * res.headers.get("content-type");   // "text/plain" or null
 * res.headers.getAll("set-cookie");  // every value, in order
 * for (const [name, value] of res.headers) console.log(name, value);
 */
export class ResponseHeaders extends HeaderFields {
  /** A plain object with lower-cased names; repeated fields joined with ", ". */
  toObject(): Record<string, string> {
    return this.toJSON();
  }
}
