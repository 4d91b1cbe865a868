import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useEffectEvent, useState } from 'react';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { toApiError, type ApiError } from '../../../lib/api-client';
import { plural } from '../../../lib/format';
import type { ReviewAnswer, ReviewQuestion } from '../../../types/api';
import { LoginRequired } from '../../people/components/LoginRequired';
import { useLoad } from '../../people/components/usePaged';
import { answerReview, getReview } from '../api/review';

const ASK: Record<ReviewQuestion['kind'], string> = {
  same_person: 'Same person?',
  face_belongs: 'Is this face one of them?',
  not_a_face: 'Not a face?',
};

const HINT: Record<ReviewQuestion['kind'], string> = {
  same_person: 'Yes merges the two people; no keeps them apart from now on.',
  face_belongs: 'No moves the face out to a person of its own.',
  not_a_face: 'Yes takes it out of every person and of search.',
};

function Crops({ urls, label, size = 112 }: { urls: readonly string[]; label: string; size?: number }) {
  return (
    <Box component="figure" aria-label={label} sx={{ m: 0, display: 'flex', flexWrap: 'wrap', gap: 1, justifyContent: 'center' }}>
      {urls.map((url, i) => (
        <Box
          key={url}
          component="img"
          src={url}
          alt={`${label}, face ${i + 1}`}
          data-testid="review-face"
          sx={{ width: size, height: size, objectFit: 'cover', borderRadius: 2, bgcolor: 'grey.200' }}
        />
      ))}
    </Box>
  );
}

function Faces({ question }: { question: ReviewQuestion }) {
  if (question.kind === 'same_person') {
    return (
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ alignItems: 'center', justifyContent: 'center' }}>
        <Crops urls={question.a.crops} label={question.a.person === null ? 'Faces in no person' : `Person ${question.a.person}`} />
        <Typography variant="h6" component="span" color="text.secondary" aria-hidden>
          and
        </Typography>
        <Crops urls={question.b.crops} label={question.b.person === null ? 'Faces in no person' : `Person ${question.b.person}`} />
      </Stack>
    );
  }
  if (question.kind === 'face_belongs') {
    return (
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ alignItems: 'center', justifyContent: 'center' }}>
        <Crops urls={[question.crop]} label="This face" size={160} />
        <Typography variant="h6" component="span" color="text.secondary" aria-hidden>
          among
        </Typography>
        <Crops urls={question.person_crops} label={`Person ${question.person}`} />
      </Stack>
    );
  }
  return <Crops urls={[question.crop]} label="This detection" size={200} />;
}

/**
 * The organiser's review queue, one question at a time: Yes / No / Skip (keys Y, N, S). Each
 * answer is sent, then the queue is asked for again: an answer can change the next question.
 */
export function ReviewPage() {
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState(false);
  const [answerError, setAnswerError] = useState<ApiError | null>(null);
  const [answered, setAnswered] = useState(0);
  const { data, error, loading, retry } = useLoad(`review:${version}`, (signal) => getReview(1, signal));
  const question = data?.questions[0] ?? null;

  const answer = async (value: ReviewAnswer) => {
    if (!question || busy) return;
    setBusy(true);
    setAnswerError(null);
    try {
      await answerReview(question.id, value);
      setAnswered((n) => n + 1);
    } catch (e) {
      // 404: answered meanwhile or the people changed; the fresh queue has what to ask now
      const err = toApiError(e);
      if (err.status !== 404) setAnswerError(err);
    } finally {
      setBusy(false);
      setVersion((v) => v + 1);
    }
  };

  const onKey = useEffectEvent((e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement | null;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
    const value = ({ y: 'yes', n: 'no', s: 'skip' } as const)[e.key.toLowerCase() as 'y' | 'n' | 's'];
    if (value) {
      e.preventDefault();
      void answer(value);
    }
  });
  useEffect(() => {
    const listener = (e: KeyboardEvent) => onKey(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  if (error?.code === 'login_required') return <LoginRequired />;

  return (
    <Stack spacing={2.5}>
      <Box>
        <Link href="#/people" variant="body2">
          ← People
        </Link>
        <Typography variant="h4" component="h1" sx={{ fontWeight: 700, fontSize: { xs: '1.5rem', sm: '2rem' }, mt: 1 }}>
          Review
        </Typography>
        <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5 }} data-testid="review-summary">
          {data
            ? `${plural(data.worth_answering, 'question')} worth answering${answered ? `; ${answered} answered here` : ''}. The ones that change most what visitors find come first.`
            : 'Short questions whose answers improve the people most.'}
        </Typography>
      </Box>

      {error && (
        <ErrorAlert
          error={error}
          action={
            <Button color="inherit" size="small" onClick={retry}>
              Try again
            </Button>
          }
        />
      )}
      {answerError && <ErrorAlert error={answerError} />}

      {loading && !data && <Skeleton variant="rounded" height={280} aria-label="Loading the next question" />}

      {data && !question && <Alert severity="success">Nothing left to review.</Alert>}

      {question && (
        <Paper
          variant="outlined"
          component="section"
          aria-label="Question"
          data-testid="review-question"
          data-kind={question.kind}
          data-question-id={question.id}
          sx={{ p: { xs: 2, sm: 3 }, opacity: loading || busy ? 0.6 : 1 }}
        >
          <Stack spacing={2.5} sx={{ alignItems: 'center' }}>
            <Typography variant="h5" component="h2" sx={{ fontWeight: 700 }}>
              {ASK[question.kind]}
            </Typography>
            <Faces question={question} />
            <Typography variant="body2" color="text.secondary">
              {HINT[question.kind]}
            </Typography>
            <Stack direction="row" spacing={1.5}>
              <Button variant="contained" size="large" disabled={busy || loading} onClick={() => void answer('yes')} aria-keyshortcuts="Y">
                Yes (Y)
              </Button>
              <Button variant="contained" color="secondary" size="large" disabled={busy || loading} onClick={() => void answer('no')} aria-keyshortcuts="N">
                No (N)
              </Button>
              <Button variant="outlined" color="inherit" size="large" disabled={busy || loading} onClick={() => void answer('skip')} aria-keyshortcuts="S">
                Skip (S)
              </Button>
            </Stack>
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}
