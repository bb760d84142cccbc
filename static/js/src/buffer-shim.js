// Gives bundled npm code that expects node's global Buffer the "buffer" package (esbuild inject).
export { Buffer } from "buffer";
