import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, toApiError } from '../../../lib/api-client';
import type { AccessState } from '../../../types/api';
import { useSession } from '../../auth/session-context';
import { enterAccessCode, getAccess } from '../api/access';

/** localStorage key: the notice this browser accepted (its text: a changed notice is asked again). */
export const CONSENT_KEY = 'faceexplore.consent';

function accepted(text: string): boolean {
  try {
    return window.localStorage.getItem(CONSENT_KEY) === text;
  } catch {
    return false;
  }
}

/** The `code` of a QR link (`/?code=CODE`), removed from the address bar so it is not shared on. */
function takeCodeFromUrl(): string | null {
  const url = new URL(window.location.href);
  const code = url.searchParams.get('code');
  if (code === null) return null;
  url.searchParams.delete('code');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  return code;
}

/**
 * Before the search form: the event's access code when the site asks for one (typed, or from the
 * QR link's `?code=`), then the notice the visitor accepts once per browser. The tick stays in
 * this browser (localStorage); nothing about it is sent to the server. If the access state cannot
 * be read the form is shown as is: the server still refuses a search without access.
 */
export function AccessGate({ children }: { children: ReactNode }) {
  const [access, setAccess] = useState<AccessState | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [consented, setConsented] = useState(false);
  const [ticked, setTicked] = useState(false);

  useEffect(() => {
    let live = true;
    const fromUrl = takeCodeFromUrl();
    (async () => {
      try {
        let state = await getAccess();
        if (fromUrl && state.required && !state.granted) {
          try {
            state = await enterAccessCode(fromUrl);
          } catch (e) {
            if (live) setError(toApiError(e));
          }
        }
        if (live) {
          setAccess(state);
          setConsented(accepted(state.consent_text));
        }
      } catch {
        // unknown: show the form; the server answers a search without access with its own message
      } finally {
        if (live) setLoaded(true);
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  // The organiser may search without the code: ask again once they log in.
  const { organiser } = useSession();
  useEffect(() => {
    if (!organiser) return;
    let live = true;
    getAccess()
      .then((state) => live && setAccess(state))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [organiser]);

  if (!loaded) return null;
  if (!access) return <>{children}</>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setAccess(await enterAccessCode(code));
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  if (access.required && !access.granted) {
    return (
      <Paper variant="outlined" component="section" aria-label="Access code" sx={{ p: { xs: 2, sm: 3 }, maxWidth: 520, mx: 'auto' }}>
        <Box component="form" onSubmit={submit}>
          <Stack spacing={2}>
            <Typography variant="h6" component="h2">
              Enter the access code of {access.event_name}
            </Typography>
            <Typography variant="body2" color="text.secondary">
              It is on the event&apos;s posters; scanning the poster&apos;s QR code enters it for you.
            </Typography>
            <TextField
              label="Access code"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              autoComplete="off"
              slotProps={{ htmlInput: { autoCapitalize: 'characters', spellCheck: false, maxLength: 64 } }}
            />
            {error && (
              <Alert severity="error" role="alert">
                {error.message}
              </Alert>
            )}
            <Button type="submit" variant="contained" disabled={busy || !code.trim()}>
              Continue
            </Button>
          </Stack>
        </Box>
      </Paper>
    );
  }

  if (!consented) {
    const accept = () => {
      try {
        window.localStorage.setItem(CONSENT_KEY, access.consent_text);
      } catch {
        // private mode without storage: asked again next time
      }
      setConsented(true);
    };
    return (
      <Paper variant="outlined" component="section" aria-label="Before you search" sx={{ p: { xs: 2, sm: 3 }, maxWidth: 620, mx: 'auto' }}>
        <Stack spacing={2}>
          <Typography variant="h6" component="h2">
            Before you search
          </Typography>
          <Typography variant="body1" sx={{ whiteSpace: 'pre-line' }} data-testid="consent-text">
            {access.consent_text}
          </Typography>
          <FormControlLabel
            control={<Checkbox checked={ticked} onChange={(e) => setTicked(e.target.checked)} />}
            label="I have read this, and I search only for myself."
          />
          <Button variant="contained" disabled={!ticked} onClick={accept}>
            Continue to the search
          </Button>
        </Stack>
      </Paper>
    );
  }
  return <>{children}</>;
}
