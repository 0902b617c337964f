// The sharp side of scripts/bench-http/run.sh: a minimal SIH-like HTTP server. GET /<file>?width=N
// reads <root>/<file> from disk (as pixfront serve does), resizes to N px wide and answers a q80
// JPEG, as SIH's handler calls sharp. Usage: node sharp-server.js <root> <port>
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const sharp = require('sharp');

sharp.cache(false);
sharp.concurrency(1);
const [root, port] = process.argv.slice(2);

http
  .createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      const input = await fs.promises.readFile(path.join(root, path.basename(url.pathname)));
      const width = Number(url.searchParams.get('width'));
      const data = await sharp(input).resize({ width }).jpeg({ quality: 80 }).toBuffer();
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': data.length });
      res.end(data);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  })
  .listen(Number(port), '127.0.0.1', () => console.log(`sharp serving ${root} on ${port}`));
