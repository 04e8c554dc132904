// Module-load tracing (node:module hooks): every module a process loads, one `xend-compat-load <url>`
// line on standard error. Used by the cold-start figure and test/lazy-imports.test.ts.
export async function load(url, context, next) {
  if (!url.startsWith("node:")) process.stderr.write(`xend-compat-load ${url}\n`);
  return next(url, context);
}
