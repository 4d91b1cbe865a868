import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { LoginForm } from '../../auth/components/LoginForm';

/** Shown instead of a page the API keeps for the organiser (401 login_required). */
export function LoginRequired({ onDone }: { onDone?: () => void }) {
  return (
    <Paper variant="outlined" sx={{ p: { xs: 2, sm: 3 }, maxWidth: 440, mx: 'auto', width: '100%' }} data-testid="login-required">
      <LoginForm
        onDone={onDone}
        headingComponent="h1"
        intro={
          <Typography variant="body2" color="text.secondary">
            The People pages of this gallery are for its organiser. Log in to see them.
          </Typography>
        }
      />
    </Paper>
  );
}
