// The README's whole programs are the files in examples/, verbatim; each one
// type-checks, bundles, runs, and behaves as the README says.
import { describe, expect, it } from "vitest";
import { readmeExamples } from "../../../scripts/example-runner.js";
import { openClient, until } from "./support/peers.js";

describe("README examples", () => {
  const examples = readmeExamples(import.meta.url, ["echo", "chat", "rooms", "client"]);

  it("echo.ts echoes, and client.ts prints the reply", async () => {
    const port = await examples.start("echo");
    const inbox = await openClient(`ws://127.0.0.1:${port}/echo`);
    inbox.ws.send("ping");
    await until(() => inbox.messages.length === 1);
    expect(inbox.messages[0]!.data.toString()).toBe("ping");
    inbox.ws.close();
    const stdout = await examples.output("client", { URL: `ws://127.0.0.1:${port}/echo` });
    expect(stdout).toBe("hello\n");
  });

  it("chat.ts greets, prefixes, closes 1011 on binary and says who left", async () => {
    const output: string[] = [];
    const port = await examples.start("chat", output);
    const ada = await openClient(`ws://127.0.0.1:${port}/chat?name=ada`);
    ada.ws.send("hi");
    await until(() => ada.messages.length === 2);
    expect(ada.messages.map((m) => m.data.toString())).toEqual(["welcome, ada", "ada: hi"]);
    ada.ws.send(Buffer.from([1]));
    expect((await ada.closeEvent()).code).toBe(1011);
    const bob = await openClient(`ws://127.0.0.1:${port}/chat?name=bob`);
    await until(() => bob.messages.length === 1);
    bob.ws.close();
    await until(() => /ada left\n/.test(output.join("")) && /bob left\n/.test(output.join("")));
  });

  it("rooms.ts relays to everyone else in the room", async () => {
    const port = await examples.start("rooms");
    const [a, b, other] = await Promise.all([1, 2, 3].map((i) => openClient(`ws://127.0.0.1:${port}/rooms/${i === 3 ? "elsewhere" : "lobby"}`)));
    a!.ws.send("from a");
    await until(() => b!.messages.length === 1);
    await new Promise((w) => setTimeout(w, 50));
    expect([a!.messages.length, b!.messages[0]!.data.toString(), other!.messages.length]).toEqual([0, "from a", 0]);
    for (const c of [a, b, other]) c!.ws.close();
  });
});
