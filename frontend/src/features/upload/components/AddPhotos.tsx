import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import AddPhotoAlternateOutlinedIcon from '@mui/icons-material/AddPhotoAlternateOutlined';
import CheckCircleOutlineIcon from '@mui/icons-material/CheckCircleOutlineOutlined';
import ErrorOutlineIcon from '@mui/icons-material/ErrorOutlineOutlined';
import HourglassEmptyIcon from '@mui/icons-material/HourglassEmpty';
import CloudUploadOutlinedIcon from '@mui/icons-material/CloudUploadOutlined';
import { useEffect, useRef, useState } from 'react';
import { isAbortError, toApiError } from '../../../lib/api-client';
import { plural } from '../../../lib/format';
import { useSession } from '../../auth/session-context';
import { uploadPhotos } from '../api/upload';

/** Uploads at once: one photo per request, so each has its own progress and answer (nginx lets two through per client). */
export const CONCURRENT_UPLOADS = 2;

/** Errors that refuse every upload, not just one photo: the rest are not sent. */
const STOPS_ALL = new Set(['login_required', 'csrf_failed', 'uploads_off', 'gallery_read_only', 'disk_full']);

type ItemState = 'waiting' | 'uploading' | 'saved' | 'refused';

interface Item {
  id: string;
  file: File;
  state: ItemState;
  /** Bytes of the file sent so far. */
  loaded: number;
  /** Where it was saved in the gallery. */
  path?: string;
  /** Why it was refused or not sent. */
  error?: string;
}

let nextId = 0;

const ICONS: Record<ItemState, React.ReactNode> = {
  waiting: <HourglassEmptyIcon fontSize="small" color="disabled" />,
  uploading: <CloudUploadOutlinedIcon fontSize="small" color="primary" />,
  saved: <CheckCircleOutlineIcon fontSize="small" color="success" />,
  refused: <ErrorOutlineIcon fontSize="small" color="error" />,
};

/**
 * The organiser's "Add photos": a file picker, then every photo uploaded into the gallery's
 * upload folder with its own progress and an overall one, and a list that says for each photo
 * where it was saved or why not. `onUploaded` runs when a batch is done (to refresh the status).
 */
export function AddPhotos({ onUploaded }: { onUploaded?: () => void }) {
  const { sessionLost } = useSession();
  const [items, setItems] = useState<Item[]>([]);
  const inputRef = useRef<HTMLInputElement | null>(null);
  const queue = useRef<Item[]>([]);
  const active = useRef(0);
  const ctrl = useRef<AbortController | null>(null);

  useEffect(() => () => ctrl.current?.abort(), []);

  const update = (id: string, patch: Partial<Item>) =>
    setItems((list) => list.map((it) => (it.id === id ? { ...it, ...patch } : it)));

  const stopRest = (message: string) => {
    const rest = new Set(queue.current.map((it) => it.id));
    queue.current = [];
    setItems((list) => list.map((it) => (rest.has(it.id) ? { ...it, state: 'refused', error: `Not sent: ${message}` } : it)));
  };

  const finished = () => {
    if (active.current === 0 && queue.current.length === 0) {
      ctrl.current = null;
      onUploaded?.();
    }
  };

  const send = (item: Item, signal: AbortSignal) => {
    active.current += 1;
    update(item.id, { state: 'uploading' });
    uploadPhotos(
      [item.file],
      (p) => update(item.id, { loaded: p.total > 0 ? Math.round((item.file.size * p.loaded) / p.total) : 0 }),
      signal,
    )
      .then((result) => {
        const answer = result.photos[0];
        if (answer?.path) update(item.id, { state: 'saved', loaded: item.file.size, path: answer.path });
        else update(item.id, { state: 'refused', error: answer?.error?.message ?? 'The server did not save it.' });
      })
      .catch((e: unknown) => {
        const message = isAbortError(e) ? 'Cancelled.' : toApiError(e).message;
        update(item.id, { state: 'refused', error: message });
        if (isAbortError(e)) return;
        const err = toApiError(e);
        if (STOPS_ALL.has(err.code)) stopRest(err.message);
        if (err.code === 'login_required' || err.code === 'csrf_failed') sessionLost();
      })
      .finally(() => {
        active.current -= 1;
        pump(signal);
        finished();
      });
  };

  function pump(signal: AbortSignal) {
    while (active.current < CONCURRENT_UPLOADS && queue.current.length > 0 && !signal.aborted) {
      send(queue.current.shift() as Item, signal);
    }
  }

  const addFiles = (files: File[]) => {
    if (files.length === 0) return;
    const added: Item[] = files.map((file) => ({ id: `u${++nextId}`, file, state: 'waiting', loaded: 0 }));
    setItems((list) => [...list.filter((it) => it.state === 'waiting' || it.state === 'uploading'), ...added]);
    queue.current.push(...added);
    if (!ctrl.current || ctrl.current.signal.aborted) ctrl.current = new AbortController();
    pump(ctrl.current.signal);
  };

  const cancel = () => {
    stopRest('cancelled.');
    ctrl.current?.abort();
  };

  const busy = items.some((it) => it.state === 'waiting' || it.state === 'uploading');
  const total = items.reduce((sum, it) => sum + it.file.size, 0);
  const loaded = items.reduce((sum, it) => sum + (it.state === 'refused' ? it.file.size : it.loaded), 0);
  const saved = items.filter((it) => it.state === 'saved').length;
  const refused = items.filter((it) => it.state === 'refused').length;
  const overall = total > 0 ? Math.min(100, Math.round((100 * loaded) / total)) : 0;

  return (
    <Box>
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
        <Button variant="contained" startIcon={<AddPhotoAlternateOutlinedIcon />} onClick={() => inputRef.current?.click()}>
          Add photos
        </Button>
        <input
          ref={inputRef}
          type="file"
          accept="image/*"
          multiple
          hidden
          aria-label="Choose photos to add to the gallery"
          onChange={(e) => {
            addFiles(Array.from(e.target.files ?? []));
            e.target.value = ''; // the same files can be chosen again
          }}
        />
        {busy && (
          <Button color="inherit" onClick={cancel}>
            Cancel
          </Button>
        )}
        {items.length > 0 && (
          <Typography variant="body2" color="text.secondary" data-testid="upload-summary" aria-live="polite">
            {busy
              ? `Uploading ${plural(items.length, 'photo')}… ${overall}% (stay on this page until it is done)`
              : `${plural(saved, 'photo')} added${refused ? `, ${refused} not added` : ''}.`}
          </Typography>
        )}
      </Stack>
      {busy && (
        <LinearProgress variant="determinate" value={overall} sx={{ mt: 1.5 }} aria-label="Upload progress, all photos" />
      )}
      {items.length > 0 && (
        <List dense aria-label="Photos added" sx={{ maxHeight: 320, overflow: 'auto', mt: 1 }}>
          {items.map((it) => (
            <ListItem key={it.id} data-testid="upload-item" data-state={it.state} disableGutters>
              <ListItemIcon sx={{ minWidth: 32 }}>{ICONS[it.state]}</ListItemIcon>
              <ListItemText
                primary={it.file.name}
                secondary={
                  it.state === 'uploading' ? (
                    <LinearProgress
                      variant="determinate"
                      value={it.file.size ? Math.round((100 * it.loaded) / it.file.size) : 0}
                      aria-label={`Upload progress of ${it.file.name}`}
                      sx={{ mt: 0.75 }}
                    />
                  ) : it.state === 'saved' ? (
                    `Saved as ${it.path}`
                  ) : it.state === 'refused' ? (
                    it.error
                  ) : (
                    'Waiting…'
                  )
                }
                slotProps={{
                  primary: { noWrap: true },
                  secondary: { color: it.state === 'refused' ? 'error' : 'text.secondary', component: 'div' },
                }}
              />
            </ListItem>
          ))}
        </List>
      )}
    </Box>
  );
}
