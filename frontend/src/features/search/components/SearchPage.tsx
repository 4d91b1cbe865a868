import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Fade from '@mui/material/Fade';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import SearchIcon from '@mui/icons-material/Search';
import DeleteSweepOutlinedIcon from '@mui/icons-material/DeleteSweepOutlined';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, isAbortError, MAX_SAMPLES, toApiError } from '../../../lib/api-client';
import type { SearchResponse, SearchSample } from '../../../types/api';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { searchPhotos, type FaceChoice } from '../api/search';
import { UploadArea, type UploadProblem } from './UploadArea';
import { NO_FACE_SHORT, SampleCard } from './SampleCard';
import { SearchResults } from './SearchResults';

export const TAGLINE = 'Find every photo of a person in this gallery — upload a photo of them.';

interface Sample {
  id: string;
  file: File;
  url: string;
  /** The visitor's face choice; null = automatic (largest face). */
  choice: FaceChoice;
}

interface Result {
  /** Sample ids in the order they were sent. */
  ids: string[];
  data: SearchResponse;
  /** Which search this is: what the visitor picked in the results belongs to one search. */
  seq: number;
}

let nextId = 0;
let nextSearch = 0;
const newId = () => `s${++nextId}`;

/** Which samples an error is about (by file name in the message), so they can be marked. */
function samplesNamedIn(error: ApiError, samples: Sample[]): Set<string> {
  const hit = new Set<string>();
  if (!['not_an_image', 'too_large', 'no_face', 'unprocessable'].includes(error.code)) return hit;
  for (const s of samples) if (s.file.name && error.message.includes(s.file.name)) hit.add(s.id);
  if (hit.size === 0 && (samples.length === 1 || error.code === 'no_face')) samples.forEach((s) => hit.add(s.id));
  return hit;
}

export function SearchPage({ statusLine, liveLine }: { statusLine?: string | null; liveLine?: string | null }) {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [errorIds, setErrorIds] = useState<Set<string>>(new Set());
  const [problem, setProblem] = useState<UploadProblem | null>(null);
  const [loading, setLoading] = useState(false);
  const abortRef = useRef<AbortController | null>(null);
  // The samples as last rendered, for the clean-up when the page goes away.
  const samplesRef = useRef(samples);
  useEffect(() => {
    samplesRef.current = samples;
  }, [samples]);

  // Free the preview URLs when the page goes away.
  useEffect(
    () => () => {
      abortRef.current?.abort();
      samplesRef.current.forEach((s) => URL.revokeObjectURL(s.url));
    },
    [],
  );

  const runSearch = useCallback(async (list: Sample[]) => {
    abortRef.current?.abort();
    abortRef.current = null;
    setError(null);
    setErrorIds(new Set());
    if (list.length === 0) {
      setResult(null);
      setLoading(false);
      return;
    }
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    setLoading(true);
    try {
      const data = await searchPhotos(
        list.map((s) => s.file),
        list.map((s) => s.choice),
        ctrl.signal,
      );
      if (ctrl.signal.aborted) return;
      setResult({ ids: list.map((s) => s.id), data, seq: ++nextSearch });
    } catch (e) {
      if (ctrl.signal.aborted || isAbortError(e)) return;
      const err = toApiError(e);
      setError(err);
      setErrorIds(samplesNamedIn(err, list));
      setResult(null);
    } finally {
      if (abortRef.current === ctrl) {
        abortRef.current = null;
        setLoading(false);
      }
    }
  }, []);

  const addFiles = (files: File[]) => {
    const added = files.map((file) => ({ id: newId(), file, url: URL.createObjectURL(file), choice: null }));
    const next = [...samples, ...added].slice(0, MAX_SAMPLES);
    setSamples(next);
    void runSearch(next);
  };

  const removeSample = (id: string) => {
    const gone = samples.find((s) => s.id === id);
    if (gone) URL.revokeObjectURL(gone.url);
    const next = samples.filter((s) => s.id !== id);
    setSamples(next);
    setProblem(null);
    void runSearch(next);
  };

  const chooseFace = (id: string, faceIndex: number) => {
    const next = samples.map((s) => (s.id === id ? { ...s, choice: faceIndex } : s));
    setSamples(next);
    void runSearch(next);
  };

  const clearAll = () => {
    samples.forEach((s) => URL.revokeObjectURL(s.url));
    setSamples([]);
    setProblem(null);
    void runSearch([]);
  };

  const sampleInfo = (id: string): SearchSample | undefined => {
    if (!result) return undefined;
    const i = result.ids.indexOf(id);
    if (i < 0) return undefined;
    return result.data.samples.find((s) => s.index === i) ?? result.data.samples[i];
  };

  const hasSamples = samples.length > 0;

  return (
    <Stack spacing={3}>
      <Box sx={{ textAlign: hasSamples ? 'left' : 'center', pt: hasSamples ? 0 : { xs: 1, sm: 4 } }}>
        <Typography
          variant="h4"
          component="h1"
          sx={{ fontWeight: 700, fontSize: { xs: '1.5rem', sm: hasSamples ? '1.75rem' : '2.25rem' }, letterSpacing: '-0.02em' }}
        >
          {TAGLINE}
        </Typography>
        {statusLine && (
          <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }} data-testid="status-line">
            {statusLine}
          </Typography>
        )}
        {liveLine && (
          <Typography variant="body2" color="primary" sx={{ mt: 0.5 }} data-testid="live-line" aria-live="polite">
            {liveLine}
          </Typography>
        )}
      </Box>

      {!hasSamples && (
        <Box sx={{ maxWidth: 720, width: '100%', alignSelf: 'center' }}>
          <UploadArea existingCount={0} onFiles={addFiles} onProblem={setProblem} />
        </Box>
      )}

      <ErrorAlert error={problem} onClose={() => setProblem(null)} severity="warning" />

      {hasSamples && (
        <Box component="section" aria-label="Sample photos">
          <Stack direction="row" sx={{ alignItems: 'baseline', justifyContent: 'space-between', mb: 1.5, gap: 2, flexWrap: 'wrap' }}>
            <Typography variant="h6" component="h2">
              Your sample {samples.length === 1 ? 'photo' : `photos (${samples.length})`}
            </Typography>
            <Stack direction="row" spacing={1}>
              <Button
                variant="contained"
                startIcon={loading ? <CircularProgress size={18} color="inherit" /> : <SearchIcon />}
                onClick={() => void runSearch(samples)}
                disabled={loading}
              >
                {loading ? 'Searching…' : 'Search'}
              </Button>
              <Button variant="text" color="inherit" startIcon={<DeleteSweepOutlinedIcon />} onClick={clearAll}>
                Clear
              </Button>
            </Stack>
          </Stack>
          <Box
            sx={{
              display: 'grid',
              gap: 1.5,
              gridTemplateColumns: { xs: 'repeat(2, minmax(0, 1fr))', sm: 'repeat(auto-fill, minmax(180px, 1fr))' },
            }}
          >
            {samples.map((s) => {
              const info = sampleInfo(s.id);
              return (
                <SampleCard
                  key={s.id}
                  filename={s.file.name}
                  previewUrl={s.url}
                  sample={info}
                  selectedFace={s.choice ?? info?.used_face ?? null}
                  pending={loading}
                  problem={errorIds.has(s.id) && error ? (error.code === 'no_face' ? NO_FACE_SHORT : error.message) : null}
                  blocked={!!error && !errorIds.has(s.id)}
                  onSelectFace={(face) => chooseFace(s.id, face)}
                  onRemove={() => removeSample(s.id)}
                />
              );
            })}
            {samples.length < MAX_SAMPLES && (
              <UploadArea existingCount={samples.length} onFiles={addFiles} onProblem={setProblem} compact />
            )}
          </Box>
        </Box>
      )}

      <Box aria-live="polite" aria-busy={loading}>
        <Fade in={loading} unmountOnExit>
          <Box sx={{ mb: 2 }}>
            <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
              Searching the gallery…
            </Typography>
            <LinearProgress aria-label="Searching the gallery" />
          </Box>
        </Fade>
        {error && !loading && (
          <ErrorAlert
            error={error}
            action={
              error.status === 0 || error.status >= 500 ? (
                <Button color="inherit" size="small" onClick={() => void runSearch(samples)}>
                  Try again
                </Button>
              ) : undefined
            }
          />
        )}
        {result && !error && (
          <SearchResults key={result.seq} result={result.data} onSearchAgain={() => void runSearch(samples)} />
        )}
      </Box>
    </Stack>
  );
}
