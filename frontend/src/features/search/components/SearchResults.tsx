import Accordion from '@mui/material/Accordion';
import AccordionDetails from '@mui/material/AccordionDetails';
import AccordionSummary from '@mui/material/AccordionSummary';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import ExpandMoreIcon from '@mui/icons-material/ExpandMore';
import { useEffect, useRef, useState } from 'react';
import type { Candidate, Photo, SearchResponse } from '../../../types/api';
import { ApiError, isAbortError, toApiError } from '../../../lib/api-client';
import { confidenceBand, confidencePercent, plural } from '../../../lib/format';
import { PhotoGallery } from '../../../components/PhotoGallery';
import { DownloadAllButton, type DownloadGroup } from '../../../components/DownloadAllButton';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { confirmCandidate } from '../api/search';
import { CandidateFaces } from './CandidateFaces';
import { VisitorActions } from '../../visitor/components/VisitorActions';
import { useSession } from '../../auth/session-context';
import { usePreloaded } from '../../../lib/preload';
import LinearProgress from '@mui/material/LinearProgress';

export const NOT_FOUND_TEXT = "You don't seem to be in the gallery.";
export const CANDIDATES_TITLE = 'Is one of these you?';
export const CANDIDATES_TEXT =
  'We are not sure. If one of these is you, pick it to see your photos. If none of them is you, you are probably not in the gallery.';
export const ALSO_YOU_TITLE = 'Also you?';

/** "We found 12 photos of you" */
function foundText(n: number): string {
  return n === 0 ? 'We recognised you, but found no photos to show' : `We found ${plural(n, 'photo')} of you`;
}

/** The numbers behind one answer, for whoever wants to check them. */
function AnswerNumbers({ answer, title }: { answer: SearchResponse; title?: string }) {
  const { rule } = answer;
  // A not-found answer's confidence reads as a contradiction beside "not in the gallery"; its
  // rule numbers say enough.
  const sure = answer.found
    ? `How sure we are that these are you: ${confidencePercent(answer.confidence)} (${confidenceBand(answer.confidence)}).`
    : null;
  return (
    <Box>
      {title && (
        <Typography variant="subtitle2" component="h3">
          {title}
        </Typography>
      )}
      {sure && (
        <Typography variant="body2" data-testid="confidence">
          {sure}
        </Typography>
      )}
      {rule?.text && (
        <Typography variant="body2" color="text.secondary" data-testid="rule-text">
          {rule.text}
        </Typography>
      )}
      {rule && (
        <Typography variant="body2" color="text.secondary">
          Best match distance: {rule.best_score ?? '—'} · accepted below: {rule.threshold ?? '—'} · false alarms
          allowed: {confidencePercent(rule.false_alarm_rate)} · rule: {rule.name}
        </Typography>
      )}
    </Box>
  );
}

/** The scores and the decision rule, folded away, for the organiser only: visitors get the plain answer. */
function Details({ answers }: { answers: SearchResponse[] }) {
  const { organiser } = useSession();
  if (!organiser) return null;
  return (
    <Accordion
      disableGutters
      elevation={0}
      sx={{ bgcolor: 'transparent', '&::before': { display: 'none' } }}
      slotProps={{ transition: { unmountOnExit: true } }}
    >
      <AccordionSummary expandIcon={<ExpandMoreIcon />} sx={{ px: 0, minHeight: 0 }}>
        <Typography variant="body2" color="text.secondary">
          Details
        </Typography>
      </AccordionSummary>
      <AccordionDetails sx={{ px: 0, pt: 0 }} data-testid="details">
        <Stack spacing={1.5}>
          {answers.map((a, i) => (
            <AnswerNumbers
              key={i}
              answer={a}
              title={answers.length > 1 ? (i === 0 ? 'First match' : `Added match ${i}`) : undefined}
            />
          ))}
        </Stack>
      </AccordionDetails>
    </Accordion>
  );
}

function NotFound({ result, picked }: { result: SearchResponse; picked?: boolean }) {
  return (
    <Alert severity="info" variant="outlined" data-testid="not-found" sx={{ bgcolor: 'background.paper' }}>
      <AlertTitle sx={{ fontSize: '1.1rem' }}>{NOT_FOUND_TEXT}</AlertTitle>
      <Typography variant="body2" sx={{ mb: 1 }}>
        {picked
          ? 'The photos of the face you picked are no longer shown in this gallery.'
          : 'We could not find you in any photo of this gallery.'}{' '}
        If you think you are in it, try another, clearer sample photo: one where the face is large, sharp, well
        lit and looking at the camera.
      </Typography>
      <Details answers={[result]} />
    </Alert>
  );
}

/** The photos of several answers, each photo once, in the order they came. */
function mergePhotos(answers: SearchResponse[]): { photos: Photo[]; groups: DownloadGroup[] } {
  const seen = new Set<number>();
  const photos: Photo[] = [];
  const groups: DownloadGroup[] = [];
  for (const a of answers) {
    const ids: number[] = [];
    for (const p of a.photos) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      photos.push(p);
      ids.push(p.id);
    }
    // A token covers only its own answer's photos, so each answer downloads with its own.
    if (ids.length > 0) groups.push({ photoIds: ids, token: a.download_token });
  }
  return { photos, groups };
}

interface Props {
  result: SearchResponse;
  /** Runs the same search again (offered when a suggestion has expired). */
  onSearchAgain?: () => void;
}

/**
 * The answer to a search, in plain words: the photos found, or "Is one of these you?" when the
 * search is unsure, or that the visitor does not seem to be in the gallery. The numbers behind it
 * sit in a folded "Details" section, for the organiser only. Give it a new `key` per search: what the visitor picked
 * belongs to one search.
 */
export function SearchResults({ result, onSearchAgain }: Props) {
  /** Answers of the suggestions the visitor confirmed, in the order they were picked. */
  const [confirmed, setConfirmed] = useState<SearchResponse[]>([]);
  const [usedTokens, setUsedTokens] = useState<string[]>([]);
  const [noneOfThese, setNoneOfThese] = useState(false);
  /** A picked candidate answered not found (hidden by the organiser since the search). */
  const [pickedGone, setPickedGone] = useState(false);
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const abortRef = useRef<AbortController | null>(null);

  useEffect(() => () => abortRef.current?.abort(), []);

  async function pick(candidate: Candidate) {
    abortRef.current?.abort();
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    setPending(candidate.token);
    setError(null);
    try {
      const data = await confirmCandidate(candidate.token, ctrl.signal);
      setUsedTokens((t) => [...t, candidate.token]);
      if (data.found) setConfirmed((list) => [...list, data]);
      else if (!result.found) setPickedGone(true);
    } catch (e) {
      if (ctrl.signal.aborted || isAbortError(e)) return;
      setError(toApiError(e));
    } finally {
      if (abortRef.current === ctrl) {
        abortRef.current = null;
        setPending(null);
      }
    }
  }

  const confirmError = error && (
    <ErrorAlert
      error={error}
      onClose={() => setError(null)}
      action={
        onSearchAgain && (error.code === 'expired_token' || error.code === 'invalid_token') ? (
          <Button color="inherit" size="small" onClick={onSearchAgain}>
            Search again
          </Button>
        ) : undefined
      }
    />
  );

  const answers = [...(result.found ? [result] : []), ...confirmed];
  // "Is one of these you?" waits for its faces: a question over empty frames reads as broken.
  const facesReady = usePreloaded(result.found ? [] : result.candidates.map((c) => c.face_url));

  if (answers.length === 0) {
    if (result.candidates.length === 0 || noneOfThese || pickedGone) {
      return <NotFound result={result} picked={pickedGone} />;
    }
    if (!facesReady) return <LinearProgress aria-label="Loading the faces" />;
    return (
      <Paper variant="outlined" sx={{ p: { xs: 2, sm: 2.5 } }} component="section" aria-labelledby="candidates-title">
        <Stack spacing={2}>
          <Box>
            <Typography id="candidates-title" variant="h5" component="h2">
              {CANDIDATES_TITLE}
            </Typography>
            <Typography variant="body1" color="text.secondary" sx={{ mt: 0.5 }}>
              {CANDIDATES_TEXT}
            </Typography>
          </Box>
          <CandidateFaces
            candidates={result.candidates}
            actionText="This is me"
            labelFor={(i, n) => `This is me: face ${i} of ${n}`}
            pendingToken={pending}
            onPick={(c) => void pick(c)}
          />
          {confirmError}
          <Box>
            <Button variant="outlined" color="inherit" onClick={() => setNoneOfThese(true)} disabled={!!pending}>
              None of these
            </Button>
          </Box>
        </Stack>
      </Paper>
    );
  }

  const { photos, groups } = mergePhotos(answers);
  const n = photos.length;
  const seenFaces = new Set<string>();
  const alsoYou = answers
    .flatMap((a) => a.also_you)
    .filter((c) => {
      const key = c.token;
      if (usedTokens.includes(key) || seenFaces.has(key) || seenFaces.has(c.face_url)) return false;
      seenFaces.add(key);
      seenFaces.add(c.face_url);
      return true;
    });
  const picked = !result.found;
  const mine = answers.find((a) => a.removal_token || a.save_token);
  return (
    <Stack spacing={2}>
      <Paper variant="outlined" sx={{ p: { xs: 2, sm: 2.5 } }}>
        <Stack
          direction={{ xs: 'column', sm: 'row' }}
          spacing={2}
          sx={{ alignItems: { xs: 'stretch', sm: 'flex-start' }, justifyContent: 'space-between' }}
        >
          <Box sx={{ minWidth: 0 }}>
            <Typography variant="h5" component="h2" data-testid="result-count">
              {foundText(n)}
            </Typography>
            <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5 }} data-testid="result-summary">
              {picked
                ? 'These are the photos of the face you picked.'
                : `These are ${confidenceBand(result.confidence)} you.`}
            </Typography>
          </Box>
          {n > 0 && (
            <Box sx={{ flexShrink: 0 }}>
              <DownloadAllButton groups={groups} />
            </Box>
          )}
        </Stack>
        <Details answers={answers} />
        {/* The first answer that found the visitor speaks for them: its tokens save or remove them. */}
        {mine && (
          <Box sx={{ mt: 2 }}>
            <VisitorActions key={mine.removal_token} removalToken={mine.removal_token} saveToken={mine.save_token} />
          </Box>
        )}
      </Paper>
      {alsoYou.length > 0 && (
        <Paper variant="outlined" sx={{ p: { xs: 2, sm: 2.5 } }} component="section" aria-labelledby="also-you-title">
          <Typography id="also-you-title" variant="h6" component="h2">
            {ALSO_YOU_TITLE}
          </Typography>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5 }}>
            These faces may be you too. Pick one to add its photos.
          </Typography>
          <CandidateFaces
            candidates={alsoYou}
            actionText="Add, this is me"
            labelFor={(i, total) => `Also me: add the photos of face ${i} of ${total}`}
            pendingToken={pending}
            onPick={(c) => void pick(c)}
            minSize={120}
          />
          {confirmError && <Box sx={{ mt: 1.5 }}>{confirmError}</Box>}
        </Paper>
      )}
      {alsoYou.length === 0 && confirmError}
      {n > 0 ? (
        // Keyed by its photos: lightGallery reads its items once, so added photos need a new gallery.
        <PhotoGallery key={photos.map((p) => p.id).join(',')} photos={photos} label="Photos of you" />
      ) : (
        <Typography color="text.secondary">{result.message}</Typography>
      )}
    </Stack>
  );
}
