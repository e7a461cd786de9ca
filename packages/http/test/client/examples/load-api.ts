// example: load-api
import { formatReport, runLoad } from "@skein/http";

const report = await runLoad({
  url: `${process.env.URL ?? "http://127.0.0.1:8080"}/hello`,
  connections: 8,
  pipeline: 4,
  count: 2_000,
  expectStatus: { min: 200, max: 299 },
  expectBody: "Hello, World!",
});
console.log(formatReport(report));
console.log(`${report.requests} ok, ${report.errorTotal} errors`);
