import Button from '@mui/material/Button';
import LockOutlinedIcon from '@mui/icons-material/LockOutlined';
import LogoutIcon from '@mui/icons-material/Logout';
import { useSession } from '../session-context';

/** The app bar's one organiser control: "Organiser" (log in) for visitors, "Log out" for the organiser. */
export function OrganiserButton() {
  const { organiser, openLogin, logout } = useSession();
  if (organiser) {
    return (
      <Button color="inherit" size="small" startIcon={<LogoutIcon />} onClick={() => void logout()} sx={{ flexShrink: 0 }}>
        Log out
      </Button>
    );
  }
  return (
    <Button
      color="inherit"
      size="small"
      startIcon={<LockOutlinedIcon />}
      onClick={openLogin}
      sx={{ flexShrink: 0, color: 'text.secondary', '& .MuiButton-startIcon': { mr: { xs: 0.25, sm: 1 } } }}
    >
      Organiser
    </Button>
  );
}
