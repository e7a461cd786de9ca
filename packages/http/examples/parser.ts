// The llhttp binding on its own: parse a request from bytes.
import { HttpParser } from "@skein/http";

const parser = new HttpParser("request", {
  onHead(head) { console.log(head.methodName, head.target, head.headerCount); },
  onBody(chunk) { /* a view of the input */ },
  onMessageComplete() { /* return true to pause after this message */ },
}, { maxHeadBytes: 16 * 1024 });
const used = parser.execute(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
console.log("used", used);
parser.destroy();
