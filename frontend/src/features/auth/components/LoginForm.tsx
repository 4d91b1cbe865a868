import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useId, useState } from 'react';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { toApiError, type ApiError } from '../../../lib/api-client';
import { useSession } from '../session-context';

interface Props {
  /** Called after a successful login. */
  onDone?: () => void;
  /** Extra buttons next to "Log in" (e.g. Cancel in a dialog). */
  extra?: React.ReactNode;
  intro?: React.ReactNode;
  /** The title's element: h1 where the form is the page, h2 (the default) in a dialog. */
  headingComponent?: 'h1' | 'h2';
  /** The title's id, for a dialog to take its name from (aria-labelledby). */
  titleId?: string;
}

/** The organiser's password form. */
export function LoginForm({ onDone, extra, intro, headingComponent = 'h2', titleId }: Props) {
  const { login, session } = useSession();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const generatedId = useId();
  const title = titleId ?? `${generatedId}-title`;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(password);
      setPassword('');
      onDone?.();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack component="form" spacing={2} onSubmit={submit} aria-labelledby={title} noValidate>
      <Typography id={title} variant="h6" component={headingComponent}>
        Organiser login
      </Typography>
      {intro ?? (
        <Typography variant="body2" color="text.secondary">
          The organiser names people, merges and splits them, and hides them from visitors.
        </Typography>
      )}
      {session && !session.password_set && !error && (
        <ErrorAlert
          severity="info"
          error={{ message: 'No organiser password has been set yet.', hint: 'Set one on the server with: faceexplore --data DATA set-password' }}
        />
      )}
      <TextField
        label="Password"
        type="password"
        autoComplete="current-password"
        autoFocus
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        disabled={busy}
        fullWidth
      />
      <ErrorAlert error={error} />
      <Stack direction="row" spacing={1} sx={{ justifyContent: 'flex-end' }}>
        {extra}
        <Button type="submit" variant="contained" disabled={busy || !password}>
          Log in
        </Button>
      </Stack>
    </Stack>
  );
}
