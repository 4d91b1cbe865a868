import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Container from '@mui/material/Container';
import Link from '@mui/material/Link';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import CenterFocusStrongRoundedIcon from '@mui/icons-material/CenterFocusStrongRounded';
import PeopleAltOutlinedIcon from '@mui/icons-material/PeopleAltOutlined';
import SearchIcon from '@mui/icons-material/Search';
import { useEffect } from 'react';
import { useHashRoute } from './hooks/useHashRoute';
import { SearchPage } from './features/search/components/SearchPage';
import { AccessGate } from './features/access/components/AccessGate';
import { PeoplePage } from './features/people/components/PeoplePage';
import { PersonPage } from './features/people/components/PersonPage';
import { ReviewPage } from './features/review/components/ReviewPage';
import { SessionProvider } from './features/auth/components/SessionProvider';
import { OrganiserButton } from './features/auth/components/OrganiserButton';
import { describeLive, describeStatus } from './lib/status';
import { useStatus } from './hooks/useStatus';

function pageParam(params: URLSearchParams): number {
  const n = Number.parseInt(params.get('page') ?? '1', 10);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

export default function App() {
  const [route, navigate] = useHashRoute();
  // Polled (only decoration: the page works without it): photos may arrive during the event.
  const { status } = useStatus();

  const section = route.segments[0] === 'people' ? 'people' : 'search';
  const reviewing = section === 'people' && route.segments[1] === 'review';
  const personId = section === 'people' && route.segments[1] && !reviewing ? Number.parseInt(route.segments[1], 10) : null;
  const page = pageParam(route.params);

  useEffect(() => {
    window.scrollTo?.({ top: 0 });
  }, [route.path]);

  const statusLine = status ? describeStatus(status) : null;
  const liveLine = describeLive(status?.live);

  return (
    <SessionProvider>
      <Box sx={{ minHeight: '100vh', display: 'flex', flexDirection: 'column' }}>
        <AppBar position="sticky" color="inherit" elevation={0} sx={{ borderBottom: 1, borderColor: 'divider' }}>
          <Container maxWidth="lg" disableGutters>
            <Toolbar sx={{ gap: { xs: 1, sm: 2 }, minHeight: { xs: 56 } }}>
              <Link
                href="#/"
                underline="none"
                color="inherit"
                sx={{ display: 'flex', alignItems: 'center', gap: 1, mr: 'auto' }}
                aria-label="FaceExplore home"
              >
                <CenterFocusStrongRoundedIcon color="primary" />
                <Typography variant="h6" component="span" sx={{ fontWeight: 800, letterSpacing: '-0.02em' }}>
                  FaceExplore
                </Typography>
              </Link>
              <Tabs
                value={section}
                aria-label="Sections"
                textColor="primary"
                indicatorColor="primary"
                sx={{
                  '& .MuiTab-root': { minWidth: { xs: 64, sm: 90 }, px: { xs: 1.25, sm: 2 } },
                  '& .MuiTab-icon': { display: { xs: 'none', sm: 'inline-flex' } },
                }}
              >
                <Tab
                  value="search"
                  label="Search"
                  icon={<SearchIcon fontSize="small" />}
                  iconPosition="start"
                  component="a"
                  href="#/"
                  onClick={(e: React.MouseEvent) => {
                    e.preventDefault();
                    navigate('/');
                  }}
                />
                <Tab
                  value="people"
                  label="People"
                  icon={<PeopleAltOutlinedIcon fontSize="small" />}
                  iconPosition="start"
                  component="a"
                  href="#/people"
                  onClick={(e: React.MouseEvent) => {
                    e.preventDefault();
                    navigate('/people');
                  }}
                />
              </Tabs>
              <OrganiserButton />
            </Toolbar>
          </Container>
        </AppBar>

        <Container component="main" maxWidth="lg" sx={{ py: { xs: 2, sm: 4 }, flexGrow: 1 }}>
          {/* The search page stays mounted so its samples and results survive a visit to People. */}
          <Box hidden={section !== 'search'}>
            <AccessGate>
              <SearchPage statusLine={statusLine} liveLine={liveLine} />
            </AccessGate>
          </Box>
          {section === 'people' &&
            (reviewing ? (
              <ReviewPage />
            ) : personId !== null && Number.isFinite(personId) ? (
              <PersonPage
                key={personId}
                personId={personId}
                page={page}
                onPage={(p) => navigate(`/people/${personId}?page=${p}`)}
              />
            ) : (
              <PeoplePage page={page} onPage={(p) => navigate(`/people?page=${p}`)} />
            ))}
        </Container>

        <Box component="footer" sx={{ py: 3, textAlign: 'center', color: 'text.secondary' }}>
          <Typography variant="caption">
            FaceExplore — self-hosted face search.
            {status?.model ? ` Model: ${status.model}.` : ''}
          </Typography>
        </Box>
      </Box>
    </SessionProvider>
  );
}
