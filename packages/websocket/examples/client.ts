// A client: say hello to the echo endpoint and print the reply.
import { run } from "@skein/core";
import { connect } from "@skein/websocket";

await run(function* () {
  const ws = yield* connect(process.env.URL ?? "ws://127.0.0.1:8080/echo", { headers: { cookie: "session=abc" } });
  try {
    yield* ws.send("hello");
    const reply = yield* ws.recv({ timeoutMs: 5000 });
    console.log(reply?.text);
  } finally {
    yield* ws.close();
  }
});
