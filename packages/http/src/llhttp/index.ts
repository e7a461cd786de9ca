/**
 * A typed binding to llhttp (the parser inside Node) compiled to
 * WebAssembly, as shipped inside the pinned undici package.
 *
 * @module
 */
export { HttpParser } from "./parser.js";
export { PARSER_STATE, type ParserEvents, type ParserLimits, type ParserState } from "./events.js";
export { MessageHead, HEAD_HAS_HOST, HEAD_HAS_TRANSFER_ENCODING, HEAD_MULTIPLE_HOST, HEAD_MULTIPLE_TRANSFER_ENCODING, LOWER, equalsIgnoreCase, isValidHost, classifyField, parseDigits } from "./head.js";
export { LLHTTP_METHOD, methodName, llhttpErrorName, type ParserKind } from "./constants.js";
export { isSimdBuild } from "./wasm.js";
