#!/usr/bin/env node
/**
 * A stand-in for the FaceExplore backend, for working on the frontend (and smoke-testing the e2e
 * script) without it. It follows the HTTP API contract with canned answers over the bbt dataset:
 * a sample whose file name starts with "stuart" is "not in the gallery", one named "noface*" has
 * no face, one named "unsure*" is not found but suggests two people ("Is one of these you?"; with
 * "unsureold*" their tokens have expired), one named "split*" is found with an "Also you?" face,
 * anything else is "found" in every group photo. It is NOT the real face search.
 *
 * The organiser's endpoints keep their state in memory (people, names, hidden flags, moves,
 * rejected faces, an undo stack) for as long as the process runs. The password is
 * ORGANISER_PASSWORD (default "organiser-e2e"); PEOPLE_PAGE=organiser (the backend's default,
 * and this mock's) keeps the People pages for the organiser, PEOPLE_PAGE=public shows them to
 * everyone but hidden people.
 *
 *   BBT_DIR=/path/to/bbt PORT=8010 node e2e/mock-api.mjs      # serves dist/ too, if built
 */
import http from 'node:http';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';

// Its answers are type-checked against the API's generated types (e2e/tsconfig.json, `npm run typecheck`).
/** @typedef {import('../src/types/api').Photo} Photo */
/** @typedef {import('../src/types/api').Person} Person */
/** @typedef {import('../src/types/api').PeopleResponse} PeopleResponse */
/** @typedef {import('../src/types/api').PersonResponse} PersonResponse */
/** @typedef {import('../src/types/api').SearchResponse} SearchResponse */
/** @typedef {import('../src/types/api').SearchSample} SearchSample */
/** @typedef {import('../src/types/api').Candidate} Candidate */
/** @typedef {import('../src/types/api').SampleFace} SampleFace */
/** @typedef {import('../src/types/api').DecisionRule} DecisionRule */
/** @typedef {import('../src/types/api').StatusResponse} StatusResponse */
/** @typedef {import('../src/types/api').ApiErrorBody} ApiErrorBody */
/** @typedef {import('../src/types/api').SessionResponse} SessionResponse */
/** @typedef {import('../src/types/api').PersonFace} PersonFace */
/** @typedef {import('../src/types/api').PersonFacesResponse} PersonFacesResponse */
/** @typedef {import('../src/types/api').Correction} Correction */
/** @typedef {import('../src/types/api').CorrectionList} CorrectionList */
/** @typedef {import('../src/types/api').UndoResult} UndoResult */
/** @typedef {import('../src/types/api').RejectResult} RejectResult */
/** @typedef {import('../src/types/api').UploadResult} UploadResult */

const BBT_DIR = process.env.BBT_DIR || '';
const PORT = Number(process.env.PORT || 8010);
const PASSWORD = process.env.ORGANISER_PASSWORD ?? 'organiser-e2e';
const PEOPLE_PAGE = process.env.PEOPLE_PAGE === 'public' ? 'public' : 'organiser';
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

/**
 * A suggested person (people/<who>): their first photo stands in for the face crop.
 * @returns {Candidate}
 */
function candidateOf(who, expired) {
  const first = photos.find((x) => x.path.startsWith(`people/${who}/`));
  return { token: `mock-cand-${expired ? 'expired-' : ''}${who}`, face_url: `/cache/faces/160/${first?.id}.jpg` };
}
/**
 * The organiser's world: each person owns faces (one per photo: their own photos and two group
 * photos); corrections change it, and every correction pushes a snapshot for undo.
 * @typedef {{ id: number, name: string | null, hidden: boolean, faces: PersonFace[] }} MockPerson
 */
let nextFaceId = 1;
/** @type {{ people: MockPerson[], nextPersonId: number, log: Correction[] }} */
let world = { people: [], nextPersonId: 1, log: [] };
for (const name of readdirSync(path.join(BBT_DIR, 'people'))) {
  const own = photos.filter((p) => p.path.startsWith(`people/${name}/`));
  const mine = [...own, ...photos.filter((p) => p.path.startsWith('group/')).slice(0, 2)];
  /** @type {PersonFace[]} */
  const faces = mine.map((ph) => ({ id: nextFaceId++, photo_id: ph.id, crop_url: `/cache/faces/160/${ph.id}.jpg`, box: ph.box ?? [0, 0, 0, 0] }));
  world.people.push({ id: world.nextPersonId++, name: null, hidden: false, faces });
}
/** @type {{ world: typeof world, correction: Correction }[]} */
let undoStack = [];
let nextCorrectionId = 1;

/** @returns {Person} */
function summary(/** @type {MockPerson} */ mp) {
  const photoIds = [...new Set(mp.faces.map((f) => f.photo_id))];
  return {
    id: mp.id, name: mp.name, hidden: mp.hidden, face_count: mp.faces.length, photo_count: photoIds.length,
    cover_url: mp.faces[0]?.crop_url ?? null, flags: mp.faces.length > 8 ? ['may_be_two_people'] : [],
  };
}
const personPhotos = (/** @type {MockPerson} */ mp) => [...new Set(mp.faces.map((f) => f.photo_id))].map((id) => byId.get(id)).filter((ph) => ph !== undefined);
/** @returns {MockPerson | undefined} */
const findPerson = (id) => world.people.find((x) => x.id === id);
/** A person known to exist (checked before the change). */
const the = (id) => /** @type {MockPerson} */ (findPerson(id));
/** The person a face (known to exist) belongs to. */
const ownerOf = (faceId) => /** @type {MockPerson} */ (world.people.find((x) => x.faces.some((f) => f.id === faceId)));
const label = (/** @type {MockPerson} */ mp) => mp.name ?? `Person ${mp.id}`;

/** Run one correction: snapshot for undo, change the world, log it. */
function correct(kind, description, change) {
  const before = structuredClone(world);
  const result = change();
  /** @type {Correction} */
  const correction = {
    id: nextCorrectionId++,
    at: new Date().toISOString(),
    kind,
    description,
    undone: false,
    who: 'organiser (web, 127.0.0.1)',
    undone_with: null,
    undoable: null,
    not_undoable_because: null,
  };
  world.log.unshift(correction);
  undoStack.push({ world: before, correction });
  return result;
}

/** Organiser sessions: cookie value -> CSRF token. */
const sessions = new Map();
const cookieOf = (req) => /(?:^|;\s*)mock_session=([^;]+)/.exec(req.headers.cookie || '')?.[1];
const organiserToken = (req) => sessions.get(cookieOf(req) ?? '') ?? null;
/** @returns {SessionResponse} */
const sessionOf = (req) => {
  const token = organiserToken(req);
  return { organiser: token !== null, password_set: PASSWORD !== '', csrf_token: token, people_page: PEOPLE_PAGE };
};
let failedLogins = 0;

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
      // an open site (search_access = "open"): the page shows the notice, then the search
      if (p === '/api/access') {
        return send(res, 200, { required: false, granted: true, event_name: 'the mock event', consent_text: 'Your photo is analysed in memory and never stored. Search only for yourself.' });
      }
      if (p === '/api/status') {
        /** @type {StatusResponse} */
        const status = {
          photos: photos.length, faces: photos.length + 10, people: world.people.filter((x) => x.faces.length).length, model: 'mock', threshold: 0.41, threshold_method: 'mock',
          last_indexed: new Date().toISOString(), search_threshold: 0.41, false_alarm_rate: 0.01, indexed: true, errors: 0, clustered: true,
          live: null, uploads: null, search_closed: false, // no live-gallery watcher in the mock
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
        const unsure = images.some((x) => /^unsure/i.test(x.filename));
        const expired = images.some((x) => /^unsureold/i.test(x.filename));
        const split = images.some((x) => /^split/i.test(x.filename));
        const rule = { name: 'open-set', threshold: 0.41, false_alarm_rate: 0.01 };
        /** @type {SearchResponse} */
        let answer;
        if (absent || unsure) {
          const candidates = unsure ? ['penny', 'leonard'].map((who) => candidateOf(who, expired)) : [];
          answer = { found: false, confidence: unsure ? 0.6 : 0.91, rule: { ...rule, best_score: 0.58, text: "Rejected: best match distance 0.58 is above the gallery's 1% false-alarm threshold 0.41" }, message: 'This person is not in the gallery.', person_id: null, samples, photos: [], download_token: null, candidates, also_you: [], removal_token: null, save_token: null };
        } else {
          const found = photos.filter((x) => x.path.startsWith('group/')).map((x, k) => ({ ...x, confidence: 0.95 - k * 0.04 }));
          answer = { found: true, confidence: 1.0, rule: { ...rule, best_score: 0.31, text: "Accepted: best match distance 0.31 is below the gallery's 1% false-alarm threshold 0.41" }, message: `Found ${found.length} photos of this person.`, person_id: 1, samples, photos: found, download_token: `mock-${found.map((x) => x.id).join('-')}`, candidates: [], also_you: split ? [candidateOf('howard', false)] : [], removal_token: null, save_token: null };
        }
        return send(res, 200, answer);
      }
      if (p === '/api/search/confirm' && req.method === 'POST') {
        let token;
        try { token = JSON.parse((await readBody(req)).toString()).token; } catch { token = null; }
        const tm = /^mock-cand-(expired-)?([a-z]+)$/.exec(typeof token === 'string' ? token : '');
        const own = tm ? photos.filter((x) => x.path.startsWith(`people/${tm[2]}/`)) : [];
        if (!tm || !own.length) return error(res, 400, 'invalid_token', 'That token is not valid.');
        if (tm[1]) return error(res, 410, 'expired_token', 'That suggestion has expired: search again.');
        const rule = { name: 'open-set', threshold: 0.41, false_alarm_rate: 0.01 };
        const found = own.map((x, k) => ({ ...x, confidence: 0.7 - k * 0.02 }));
        /** @type {SearchResponse} */
        const answer = { found: true, confidence: 0.72, rule: { ...rule, best_score: 0.45, text: 'Confirmed by the visitor: best match distance 0.45 is inside the maybe band' }, message: `Found ${found.length} photos of this person.`, person_id: null, samples: [], photos: found, download_token: `mock-${found.map((x) => x.id).join('-')}`, candidates: [], also_you: [], removal_token: null, save_token: null };
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
      const csrf = organiserToken(req);
      const organiser = csrf !== null;
      const loginRequired = () => error(res, 401, 'login_required', 'This is for the organiser: log in first.');
      /** Organiser-only changes need a session and its CSRF token: true when refused (and answered). */
      const refuseChange = () => {
        if (!organiser) loginRequired();
        else if (req.headers['x-csrf-token'] !== csrf) error(res, 403, 'csrf_failed', 'The CSRF token is missing or wrong.');
        else return false;
        return true;
      };
      // The organiser's upload: answered per file (JPEG and PNG by their first bytes), never stored.
      if (p === '/api/gallery/photos' && req.method === 'POST') {
        if (refuseChange()) return;
        const folder = `uploads/${new Date().toISOString().slice(0, 10)}`;
        const sent = multipart(await readBody(req), req.headers['content-type']).filter((x) => x.name === 'photos');
        if (!sent.length) return error(res, 400, 'no_file', "Add at least one photo (form field 'photos').");
        const isPhoto = (/** @type {Buffer} */ d) => (d[0] === 0xff && d[1] === 0xd8) || d.subarray(0, 4).toString('latin1') === '\x89PNG';
        /** @type {UploadResult['photos']} */
        const answers = sent.map((x) => {
          const name = path.basename(x.filename.replace(/\\/g, '/')) || 'photo.jpg';
          return isPhoto(x.data)
            ? { filename: name, path: `${folder}/${name}`, error: null }
            : { filename: name, path: null, error: { code: 'not_an_image', message: `${name} is not a photo the gallery can use.` } };
        });
        const saved = answers.filter((a) => a.path).length;
        /** @type {UploadResult} */
        const answer = { saved, refused: answers.length - saved, folder, photos: answers };
        return send(res, 200, answer);
      }
      const jsonBody = async () => { try { return JSON.parse((await readBody(req)).toString() || '{}'); } catch { return {}; } };
      const visible = (mp) => organiser || !mp.hidden;

      if (p === '/api/session') {
        if (req.method === 'GET') return send(res, 200, sessionOf(req));
        if (req.method === 'DELETE') {
          sessions.delete(cookieOf(req) ?? '');
          return send(res, 200, { organiser: false, password_set: PASSWORD !== '', csrf_token: null, people_page: PEOPLE_PAGE }, 'application/json', { 'Set-Cookie': 'mock_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict' });
        }
        if (req.method === 'POST') {
          const { password } = await jsonBody();
          if (!PASSWORD) return error(res, 403, 'no_password', 'No organiser password is set: run faceexplore --data DATA set-password to set one.');
          if (failedLogins >= 5) return error(res, 429, 'rate_limited', 'Too many wrong passwords: wait a minute and try again.');
          if (password !== PASSWORD) {
            failedLogins++;
            return error(res, 401, 'wrong_password', 'That password is not right.');
          }
          failedLogins = 0;
          const cookie = crypto.randomUUID();
          const token = crypto.randomUUID();
          sessions.set(cookie, token);
          /** @type {SessionResponse} */
          const answer = { organiser: true, password_set: true, csrf_token: token, people_page: PEOPLE_PAGE };
          return send(res, 200, answer, 'application/json', { 'Set-Cookie': `mock_session=${cookie}; Path=/; HttpOnly; SameSite=Strict` });
        }
      }
      if (p === '/api/people') {
        if (PEOPLE_PAGE === 'organiser' && !organiser) return loginRequired();
        const q = (url.searchParams.get('q') || '').trim().toLowerCase();
        const list = world.people
          .filter((mp) => mp.faces.length && visible(mp) && (!q || (mp.name ?? '').toLowerCase().includes(q)))
          .sort((a, b) => b.faces.length - a.faces.length || a.id - b.id);
        const pg = page(list, url);
        /** @type {PeopleResponse} */
        const answer = { people: pg.items.map(summary), page: pg.page, per_page: pg.per_page, total: pg.total, pages: pg.pages };
        return send(res, 200, answer);
      }
      let m = /^\/api\/people\/(\d+)(\/faces|\/merge)?$/.exec(p);
      if (m) {
        const mp = findPerson(Number(m[1]));
        const sub = m[2];
        if (sub === '/faces' || req.method !== 'GET' || PEOPLE_PAGE === 'organiser') {
          if (!organiser) return loginRequired();
        }
        if (!mp || !mp.faces.length || !visible(mp)) return error(res, 404, 'not_found', `There is no Person ${m[1]}.`);
        if (sub === '/faces') {
          const pg = page(mp.faces, url);
          /** @type {PersonFacesResponse} */
          const answer = { faces: pg.items, page: pg.page, per_page: pg.per_page, total: pg.total, pages: pg.pages };
          return send(res, 200, answer);
        }
        if (sub === '/merge' && req.method === 'POST') {
          if (refuseChange()) return;
          const others = (await jsonBody()).people;
          if (!Array.isArray(others) || !others.length || others.includes(mp.id)) return error(res, 400, 'bad_request', 'Name the other people to merge.');
          const merged = others.map(findPerson);
          if (merged.some((x) => !x || !x.faces.length)) return error(res, 404, 'not_found', 'Some of those people do not exist.');
          correct('merge', `Merged ${merged.map(label).join(', ')} into ${label(mp)}`, () => {
            const into = the(mp.id);
            for (const id of others) {
              const o = the(id);
              into.faces.push(...o.faces);
              o.faces = [];
            }
          });
          return send(res, 200, summary(the(mp.id)));
        }
        if (!sub && req.method === 'PATCH') {
          if (refuseChange()) return;
          const patch = await jsonBody();
          if ('name' in patch) {
            const name = typeof patch.name === 'string' ? patch.name.trim().slice(0, 100) || null : null;
            correct('rename', name ? `Renamed ${label(mp)} to ${name}` : `Removed the name of ${label(mp)}`, () => { the(mp.id).name = name; });
          }
          if (typeof patch.hidden === 'boolean') {
            correct(patch.hidden ? 'hide' : 'unhide', `${patch.hidden ? 'Hid' : 'Unhid'} ${label(mp)}`, () => { the(mp.id).hidden = patch.hidden; });
          }
          return send(res, 200, summary(the(mp.id)));
        }
        if (!sub && req.method === 'GET') {
          const pg = page(personPhotos(mp), url);
          /** @type {PersonResponse} */
          const answer = { person: summary(mp), photos: pg.items, page: pg.page, per_page: pg.per_page, total: pg.total, pages: pg.pages };
          return send(res, 200, answer);
        }
      }
      if ((p === '/api/faces/move' || p === '/api/faces/reject') && req.method === 'POST') {
        if (refuseChange()) return;
        const { faces, to } = await jsonBody();
        if (!Array.isArray(faces) || !faces.length) return error(res, 400, 'bad_request', 'Name at least one face.');
        const owners = faces.map((id) => world.people.find((x) => x.faces.some((f) => f.id === id)));
        if (owners.some((x) => !x)) return error(res, 404, 'not_found', 'Some of those faces do not exist.');
        const take = () => faces.map((id) => {
          const owner = ownerOf(id);
          const face = /** @type {PersonFace} */ (owner.faces.find((f) => f.id === id));
          owner.faces = owner.faces.filter((f) => f.id !== id);
          return face;
        });
        if (p === '/api/faces/reject') {
          correct('reject', `Marked ${faces.length} face(s) as not a face`, take);
          /** @type {RejectResult} */
          const answer = { rejected: faces.length };
          return send(res, 200, answer);
        }
        const target = to === null ? null : findPerson(to);
        if (to !== null && (!target || !target.faces.length)) return error(res, 404, 'not_found', `There is no Person ${to}.`);
        const id = correct('move', `Moved ${faces.length} face(s) to ${target ? label(target) : 'a new person'}`, () => {
          const moved = take();
          if (target) {
            the(target.id).faces.push(...moved);
            return target.id;
          }
          const fresh = { id: world.nextPersonId++, name: null, hidden: false, faces: moved };
          world.people.push(fresh);
          return fresh.id;
        });
        return send(res, 200, summary(the(id)));
      }
      // Undo in the mock takes back the correction and every later one not undone (the real
      // server takes back only the later ones that touched the same people or faces).
      m = /^\/api\/corrections\/(\d+)\/(undo|undo-plan)$/.exec(p);
      if ((p === '/api/undo' && req.method === 'POST') || m) {
        const wanted = m ? Number(m[1]) : null;
        if (m?.[2] === 'undo-plan') {
          if (!organiser) return loginRequired();
        } else if (refuseChange()) return;
        const at = wanted !== null ? undoStack.findIndex((u) => u.correction.id === wanted) : undoStack.length - 1;
        if (at < 0) {
          if (wanted === null) return error(res, 409, 'nothing_to_undo', 'There is nothing to undo.');
          return error(res, 409, 'already_undone', `Correction ${wanted} was undone already.`);
        }
        const target = undoStack[at].correction;
        const also = undoStack.slice(at + 1).map((u) => ({ ...u.correction, undone: true, undone_with: target.id })).reverse();
        if (m?.[2] === 'undo-plan') return send(res, 200, { correction: target, also });
        const taken = undoStack.splice(at);
        const log = world.log;
        world = taken[0].world;
        const ids = new Map(also.map((c) => [c.id, c]));
        world.log = log.map((c) => (c.id === target.id ? { ...c, undone: true } : (ids.get(c.id) ?? c)));
        /** @type {UndoResult} */
        const answer = { undone: { ...target, undone: true }, also };
        return send(res, 200, answer);
      }
      if (p === '/api/corrections') {
        if (!organiser) return loginRequired();
        const pending = new Set(undoStack.map((u) => u.correction.id));
        /** @type {CorrectionList} */
        const answer = {
          corrections: world.log.map((c) => ({
            ...c,
            undoable: pending.has(c.id),
            not_undoable_because: pending.has(c.id) ? null : 'Undone already.',
          })),
        };
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
