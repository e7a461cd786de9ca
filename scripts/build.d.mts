// Types for the parts of build.mjs that tests import.
import type { BuildOptions } from "esbuild";
export declare function bundleOptions(src: string, out: string): BuildOptions;
export declare function bundleAtomically(src: string, out: string): Promise<void>;
