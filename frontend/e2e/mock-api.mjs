#!/usr/bin/env node
/**
 * A stand-in for the FaceExplore backend, for working on the frontend (and smoke-testing the e2e
 * script) without it. It follows the HTTP API contract with canned answers over the bbt dataset:
 * a sample whose file name starts with "stuart" is "not in the gallery", one named "noface*" has
 * no face, anything else is "found" in every group photo. It is NOT the real face search.
 *
 *   BBT_DIR=/path/to/bbt PORT=8010 node e2e/mock-api.mjs      # serves dist/ too, if built
 */
import http from 'node:http';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

// Its answers are type-checked against the API's generated types (e2e/tsconfig.json, `npm run typecheck`).
/** @typedef {import('../src/types/api').Photo} Photo */
/** @typedef {import('../src/types/api').Person} Person */
/** @typedef {import('../src/types/api').PeopleResponse} PeopleResponse */
/** @typedef {import('../src/types/api').PersonResponse} PersonResponse */
/** @typedef {import('../src/types/api').SearchResponse} SearchResponse */
/** @typedef {import('../src/types/api').SearchSample} SearchSample */
/** @typedef {import('../src/types/api').SampleFace} SampleFace */
/** @typedef {import('../src/types/api').DecisionRule} DecisionRule */
/** @typedef {import('../src/types/api').StatusResponse} StatusResponse */
/** @typedef {import('../src/types/api').ApiErrorBody} ApiErrorBody */

const BBT_DIR = process.env.BBT_DIR || '';
const PORT = Number(process.env.PORT || 8010);
const DIST = path.resolve(process.env.DIST || new URL('../dist', import.meta.url).pathname);
if (!BBT_DIR) {
  console.error('set BBT_DIR');
  process.exit(2);
}

function imageSize(buf) {
  if (buf.readUInt32BE(0) === 0x89504e47) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) return { width: 0, height: 0 };
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return { width: 0, height: 0 };
}

const files = [];
for (const dir of ['group', ...readdirSync(path.join(BBT_DIR, 'people')).map((p) => `people/${p}`)]) {
  for (const f of readdirSync(path.join(BBT_DIR, dir)).sort()) files.push(`${dir}/${f}`);
}
const photos = files.map(/** @returns {Photo} */ (rel, i) => {
  const { width, height } = imageSize(readFileSync(path.join(BBT_DIR, rel)));
  const id = i + 1;
  /** @type {Photo['box']} */
  const box = [Math.round(width * 0.4), Math.round(height * 0.2), Math.round(width * 0.55), Math.round(height * 0.45)];
  return { id, path: rel, url: `/gallery/${rel}`, thumbnail_url: `/cache/thumbnails/400/${id}.jpg`, placeholder_url: `/cache/thumbnails/32/${id}.jpg`, width, height, confidence: null, box };
});
const byId = new Map(photos.map((p) => [p.id, p]));
const people = readdirSync(path.join(BBT_DIR, 'people')).map((name, i) => {
  const own = photos.filter((p) => p.path.startsWith(`people/${name}/`));
  /** @type {Person} */
  const person = { id: i + 1, name: null, hidden: false, face_count: own.length + 2, photo_count: own.length + 2, cover_url: own[0].thumbnail_url, flags: i === 2 ? ['may_be_two_people'] : [] };
  return { person, photos: [...photos.filter((p) => p.path.startsWith('group/')).slice(0, 2), ...own] };
});

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
/** A stored (uncompressed) zip. */
function zip(entries) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(n.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20); cd.writeUInt32LE(data.length, 24); cd.writeUInt16LE(n.length, 28); cd.writeUInt32LE(offset, 42);
    parts.push(local, n, data);
    central.push(cd, n);
    offset += 30 + n.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}

const send = (res, status, body, type = 'application/json', extra = {}) => {
  res.writeHead(status, { 'Content-Type': type, ...extra });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
};
const error = (res, status, code, message) => send(res, status, /** @type {ApiErrorBody} */ ({ error: { code, message } }));
const readBody = (req) => new Promise((ok) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => ok(Buffer.concat(c))); });

/** Just enough multipart parsing for the mock: [{name, filename, data}] */
function multipart(buf, contentType) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType || '');
  if (!boundary) return [];
  const sep = Buffer.from(`--${boundary[1] || boundary[2]}`);
  const out = [];
  let pos = buf.indexOf(sep);
  while (pos >= 0) {
    const next = buf.indexOf(sep, pos + sep.length);
    if (next < 0) break;
    const part = buf.subarray(pos + sep.length + 2, next - 2);
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headEnd).toString();
    const name = /name="([^"]*)"/.exec(head)?.[1];
    const filename = /filename="([^"]*)"/.exec(head)?.[1] ?? '';
    out.push({ name, filename, data: part.subarray(headEnd + 4) });
    pos = next;
  }
  return out;
}

function page(list, url) {
  const p = Math.max(1, Number(url.searchParams.get('page') || 1));
  const per = Math.max(1, Math.min(200, Number(url.searchParams.get('per_page') || 48)));
  return { items: list.slice((p - 1) * per, p * per), page: p, per_page: per, total: list.length, pages: Math.max(1, Math.ceil(list.length / per)) };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.woff': 'font/woff', '.ttf': 'font/ttf', '.gif': 'image/gif' };

http
  .createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    try {
      if (p === '/api/health') return send(res, 200, { status: 'ok' });
      if (p === '/api/status') {
        /** @type {StatusResponse} */
        const status = {
          photos: photos.length, faces: photos.length + 10, people: people.length, model: 'mock', threshold: 0.41, threshold_method: 'mock',
          last_indexed: new Date().toISOString(), search_threshold: 0.41, false_alarm_rate: 0.01, indexed: true, errors: 0, clustered: true,
        };
        return send(res, 200, status);
      }
      if (p === '/api/search' && req.method === 'POST') {
        const parts = multipart(await readBody(req), req.headers['content-type']);
        const images = parts.filter((x) => x.name === 'images');
        const faces = parts.filter((x) => x.name === 'faces').map((x) => x.data.toString());
        if (!images.length) return error(res, 400, 'no_file', 'Please upload at least one photo.');
        if (images.length > 10) return error(res, 400, 'too_many_files', 'At most 10 photos can be searched at once.');
        await new Promise((r) => setTimeout(r, 400));
        /** @type {SearchSample[]} */
        const samples = [];
        for (const [i, img] of images.entries()) {
          const size = imageSize(img.data);
          if (!size.width) return error(res, 422, 'not_an_image', `${img.filename} is not an image.`);
          const noFace = /^noface/i.test(img.filename);
          const two = /^two/i.test(img.filename);
          /** @type {SampleFace[]} */
          const f = noFace ? [] : [{ index: 0, box: [size.width * 0.25, size.height * 0.15, size.width * 0.75, size.height * 0.7], probability: 0.99 }];
          if (two) f.push({ index: 1, box: [size.width * 0.05, size.height * 0.05, size.width * 0.2, size.height * 0.25], probability: 0.9 });
          const chosen = faces[i] === undefined || faces[i] === '' ? (f.length ? 0 : null) : Number(faces[i]);
          samples.push({ index: i, filename: img.filename, ...size, faces: f, used_face: chosen, error: noFace ? { code: 'no_face', message: `No face was found in ${img.filename}.` } : null });
        }
        if (samples.every((s) => s.used_face === null)) return error(res, 422, 'no_face', `No face was found in ${images.map((x) => x.filename).join(', ')}.`);
        const absent = images.some((x) => /^stuart/i.test(x.filename));
        const rule = { name: 'open-set', threshold: 0.41, false_alarm_rate: 0.01 };
        /** @type {SearchResponse} */
        let answer;
        if (absent) {
          answer = { found: false, confidence: 0.91, rule: { ...rule, best_score: 0.58, text: "Rejected: best match distance 0.58 is above the gallery's 1% false-alarm threshold 0.41" }, message: 'This person is not in the gallery.', person_id: null, samples, photos: [], download_token: null };
        } else {
          const found = photos.filter((x) => x.path.startsWith('group/')).map((x, k) => ({ ...x, confidence: 0.95 - k * 0.04 }));
          answer = { found: true, confidence: 0.97, rule: { ...rule, best_score: 0.31, text: "Accepted: best match distance 0.31 is below the gallery's 1% false-alarm threshold 0.41" }, message: `Found ${found.length} photos of this person.`, person_id: 1, samples, photos: found, download_token: `mock-${found.map((x) => x.id).join('-')}` };
        }
        return send(res, 200, answer);
      }
      if (p === '/api/download/links' && req.method === 'POST') {
        let ids;
        try { ids = JSON.parse((await readBody(req)).toString()).photo_ids; } catch { ids = null; }
        const chosen = Array.isArray(ids) ? ids.map((id) => byId.get(id)).filter((ph) => ph !== undefined) : [];
        if (!chosen.length || chosen.length !== ids.length) return error(res, 400, 'bad_photo_ids', 'Some of those photos do not exist.');
        // the real server signs the ids into the token; the mock just lists them
        const link = { url: `/api/download?token=${ids.join('.')}`, filename: 'faceexplore-photos.zip', photos: ids.length };
        return send(res, 200, { links: [link], expires_in: 3600 });
      }
      if (p === '/api/download' && req.method === 'GET') {
        const ids = (url.searchParams.get('token') ?? '').split('.').map(Number);
        const chosen = ids.map((id) => byId.get(id)).filter((ph) => ph !== undefined);
        if (!chosen.length) return error(res, 400, 'bad_link', 'This download link is not valid.');
        const body = zip(chosen.map((ph) => ({ name: path.basename(ph.path), data: readFileSync(path.join(BBT_DIR, ph.path)) })));
        return send(res, 200, body, 'application/zip', { 'Content-Disposition': 'attachment; filename="faceexplore-photos.zip"' });
      }
      if (p === '/api/people') {
        const pg = page(people, url);
        /** @type {PeopleResponse} */
        const answer = { people: pg.items.map((x) => x.person), page: pg.page, per_page: pg.per_page, total: pg.total, pages: pg.pages };
        return send(res, 200, answer);
      }
      let m = /^\/api\/people\/(\d+)$/.exec(p);
      if (m) {
        const id = Number(m[1]);
        const found = people.find((x) => x.person.id === id);
        if (!found) return error(res, 404, 'not_found', `There is no person ${m[1]}.`);
        const pg = page(found.photos, url);
        /** @type {PersonResponse} */
        const answer = { person: found.person, photos: pg.items, page: pg.page, per_page: pg.per_page, total: pg.total, pages: pg.pages };
        return send(res, 200, answer);
      }
      if (p.startsWith('/api/')) return error(res, 404, 'not_found', 'Unknown API path.');
      m = /^\/cache\/(?:thumbnails|faces)\/\d+\/(\d+)\.jpg$/.exec(p);
      const ph = m ? byId.get(Number(m[1])) : undefined;
      if (ph) {
        return send(res, 200, readFileSync(path.join(BBT_DIR, ph.path)), TYPES[path.extname(ph.path)]);
      }
      if (p.startsWith('/gallery/')) {
        const rel = decodeURIComponent(p.slice('/gallery/'.length));
        const file = path.join(BBT_DIR, rel);
        if (!rel.includes('..') && existsSync(file)) return send(res, 200, readFileSync(file), TYPES[path.extname(file)] || 'application/octet-stream');
        return error(res, 404, 'not_found', 'No such photo.');
      }
      let file = path.join(DIST, p === '/' ? 'index.html' : p);
      if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(DIST, 'index.html');
      if (!existsSync(file)) return send(res, 404, 'Build the frontend first (npm run build).', 'text/plain');
      const body = readFileSync(file);
      const gz = /gzip/.test(req.headers['accept-encoding'] || '') && /\.(js|css|html|svg)$/.test(file);
      return send(res, 200, gz ? zlib.gzipSync(body) : body, TYPES[path.extname(file)] || 'application/octet-stream', gz ? { 'Content-Encoding': 'gzip' } : {});
    } catch (e) {
      console.error(e);
      return error(res, 500, 'server_error', 'The server ran into a problem.');
    }
  })
  .listen(PORT, '127.0.0.1', () => console.log(`mock FaceExplore API on http://127.0.0.1:${PORT} (${photos.length} photos)`));
