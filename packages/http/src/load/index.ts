// The pipelining load generator. This file only re-exports.
export { load, runLoad } from "./run.js";
export { resolveLoadOptions, parseDuration, type LoadOptions, type LoadProgress, type ResolvedLoadOptions, type StatusRange } from "./options.js";
export { buildReport, formatReport, formatBytes, type LoadReport, type LatencySummary } from "./report.js";
export { Histogram, HISTOGRAM_MAX_VALUE } from "./histogram.js";
export { ERROR_KINDS, ERROR_KIND_MEANING, type ErrorKind } from "./stats.js";
