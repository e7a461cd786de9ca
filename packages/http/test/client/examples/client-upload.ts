// example: client-upload
import { run, sleep } from "@skein/core";
import { fetch } from "@skein/http";

const base = process.env.URL ?? "http://127.0.0.1:8080";

await run(function* () {
  // chunked, from a generator of chunks
  function* lines() {
    for (let i = 0; i < 3; i++) yield `line ${i}\n`;
  }
  const a = yield* fetch(`${base}/echo`, { method: "POST", body: lines() });
  console.log(JSON.stringify(yield* a.text()));

  // chunked, from a coroutine that produces chunks over time
  const b = yield* fetch(`${base}/echo`, {
    method: "PUT",
    body: function* (write) {
      yield* write("slow ");
      yield* sleep(10);
      yield* write("upload");
    },
  });
  console.log(yield* b.text());
});
