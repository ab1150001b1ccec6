// Builds the pages' small browser bundle (src/client/main.ts) into public/assets/app.js, which the
// Worker serves at /assets/app.js. `npm start` and `npm test` run it first; the output is git-ignored.
import { build } from "esbuild";

await build({
  entryPoints: ["src/client/main.ts"],
  outfile: "public/assets/app.js",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  logLevel: "warning",
});
console.log("build-client: public/assets/app.js");
