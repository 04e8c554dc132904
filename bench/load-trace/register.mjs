// node --import ./bench/load-trace/register.mjs …: trace every module the process loads (./hooks.mjs).
import { register } from "node:module";

register("./hooks.mjs", import.meta.url);
