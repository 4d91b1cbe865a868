import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LockOutlinedIcon from '@mui/icons-material/LockOutlined';
import LogoutIcon from '@mui/icons-material/Logout';
import Tooltip from '@mui/material/Tooltip';
import { useSession } from '../session-context';

// On a phone only the icon shows, so the tabs keep their room: the aria-label names it and the
// tooltip (a long press) says it; the tooltip only describes, so the name stays the aria-label.
const compactSx = {
  flexShrink: 0,
  minWidth: { xs: 40, sm: 64 },
  px: { xs: 1, sm: 1.25 },
  '& .MuiButton-startIcon': { mr: { xs: 0, sm: 1 }, ml: { xs: 0, sm: -0.5 } },
} as const;

/** The app bar's one organiser control: "Organiser" (log in) for visitors, "Log out" for the organiser. */
export function OrganiserButton() {
  const { organiser, openLogin, logout } = useSession();
  if (organiser) {
    return (
      <Tooltip title="Log out of the organiser's pages" describeChild>
        <Button color="inherit" size="small" startIcon={<LogoutIcon />} onClick={() => void logout()} aria-label="Log out" sx={compactSx}>
          <Box component="span" sx={{ display: { xs: 'none', sm: 'inline' } }}>
            Log out
          </Box>
        </Button>
      </Tooltip>
    );
  }
  return (
    <Tooltip title="Organiser login" describeChild>
      <Button
        color="inherit"
        size="small"
        startIcon={<LockOutlinedIcon />}
        onClick={openLogin}
        aria-label="Organiser"
        sx={{ ...compactSx, color: 'text.secondary' }}
      >
        <Box component="span" sx={{ display: { xs: 'none', sm: 'inline' } }}>
          Organiser
        </Box>
      </Button>
    </Tooltip>
  );
}
