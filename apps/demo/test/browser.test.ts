/**
 * The demo page in a real browser: headless Chromium (/usr/bin/chromium)
 * driven by playwright-core, against the real demo process. Two pages join
 * the chat, a message typed in one appears in both, a raw `ws` text client
 * coexists with them, and the live figures update. A screenshot of each page
 * is saved under apps/demo/test/artifacts/.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type Browser } from "./support/browser.js";
import { startDemo, type Demo } from "./support/demo-process.js";
import { Inbox, openWs } from "./support/ws-client.js";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "artifacts");

let demo: Demo;
let browser: Browser;
let alice: Page;
let bob: Page;

async function join_(name: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(demo.url + "/");
  await page.locator("#status.open").waitFor({ timeout: 10_000 });
  await page.fill("#name", name);
  await page.locator("#name").dispatchEvent("change");
  return page;
}

/** The chat lines a page shows, as "from: text". */
function lines(page: Page): Promise<string[]> {
  return page.$$eval("#messages li.msg", (lis) =>
    lis.map((li) => `${li.querySelector(".from")?.textContent}: ${li.querySelector(".bubble")?.textContent}`),
  );
}

async function figure(page: Page, key: string): Promise<string> {
  return (await page.textContent(`#fig-${key} .value`)) ?? "";
}

async function updates(page: Page): Promise<number> {
  return Number(await page.getAttribute("#figures", "data-updates"));
}

describe("the demo page in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    demo = await startDemo();
    browser = await launchBrowser();
    alice = await join_("alice");
    bob = await join_("bob");
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it("serves a self-contained page: no request leaves the demo's origin", async () => {
    const page = await browser.context.newPage();
    const foreign: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(demo.url) && !r.url().startsWith(demo.url.replace("http", "ws"))) foreign.push(r.url());
    });
    const res = await page.goto(demo.url + "/");
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-type"]).toMatch(/^text\/html/);
    await page.locator("#status.open").waitFor();
    expect(foreign).toEqual([]);
    await page.close();
  });

  it("shows a message typed in one page in both, marked as mine in the sender's", async () => {
    await alice.fill("#text", "hello from alice <b>not bold</b>");
    await alice.press("#text", "Enter");
    for (const page of [alice, bob]) {
      await expect.poll(() => lines(page)).toContain("alice: hello from alice <b>not bold</b>");
    }
    expect(await alice.locator("#messages li.mine .bubble").last().textContent()).toBe("hello from alice <b>not bold</b>");
    expect(await bob.locator("#messages li.theirs .from").last().textContent()).toBe("alice");
    expect(await bob.locator("#messages b").count()).toBe(0); // text, never HTML

    await bob.fill("#text", "hi alice");
    await bob.click("#send");
    await expect.poll(() => lines(alice)).toContain("bob: hi alice");
    expect(await alice.inputValue("#text")).toBe("");
  });

  it("coexists with a raw text client: its text shows as-is, and it receives the pages' JSON verbatim", async () => {
    const raw = await openWs(demo.url.replace("http", "ws") + "/ws/chat");
    const inbox = new Inbox(raw);
    try {
      raw.send("plain text from a ws client");
      for (const page of [alice, bob]) {
        await expect.poll(() => lines(page)).toContain("text client: plain text from a ws client");
      }
      await alice.fill("#text", "to everyone");
      await alice.press("#text", "Enter");
      const got = await inbox.next((m) => m.data.toString().includes("to everyone"));
      expect(got.binary).toBe(false);
      expect(JSON.parse(got.data.toString())).toMatchObject({ type: "chat", from: "alice", text: "to everyone" });
      // Without ?stats=1 a raw client is never sent figures.
      await expect.poll(() => updates(alice), { timeout: 5000 }).toBeGreaterThanOrEqual(2);
      await expect(inbox.next((m) => m.data.toString().includes('"stats"'), 1500)).rejects.toThrow(/timed out/);
    } finally {
      raw.close();
    }
  });

  it("updates the live figures every second, requests/s included", async () => {
    const before = await updates(bob);
    // Steady traffic for the requests/s chart while we watch it.
    let traffic = true;
    let served = 0;
    const load = (async () => {
      while (traffic) {
        const res = await fetch(demo.url + "/plaintext");
        expect(await res.text()).toBe("Hello, World!");
        served++;
      }
    })();
    try {
      await expect.poll(() => updates(bob), { timeout: 8000 }).toBeGreaterThanOrEqual(before + 2);
      await expect.poll(async () => Number(await figure(bob, "rps")), { timeout: 8000 }).toBeGreaterThan(0);
    } finally {
      traffic = false;
      await load;
    }
    expect(served).toBeGreaterThan(0);
    expect(Number(await figure(bob, "websockets"))).toBeGreaterThanOrEqual(2);
    expect(Number(await figure(bob, "connections"))).toBeGreaterThanOrEqual(2);
    expect(Number(await figure(bob, "tasks"))).toBeGreaterThan(0);
    const points = await bob.getAttribute("#fig-rps polyline", "points");
    expect(points?.trim().split(" ").length).toBeGreaterThanOrEqual(2);

    await alice.screenshot({ path: join(ARTIFACTS, "chat-alice.png") });
    await bob.screenshot({ path: join(ARTIFACTS, "chat-bob.png") });
  });
});
