import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Container from '@mui/material/Container';
import Link from '@mui/material/Link';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import CenterFocusStrongRoundedIcon from '@mui/icons-material/CenterFocusStrongRounded';
import HistoryIcon from '@mui/icons-material/History';
import PeopleAltOutlinedIcon from '@mui/icons-material/PeopleAltOutlined';
import SearchIcon from '@mui/icons-material/Search';
import { useEffect } from 'react';
import { useHashRoute } from './hooks/useHashRoute';
import { SearchPage } from './features/search/components/SearchPage';
import { AccessGate } from './features/access/components/AccessGate';
import { PeoplePage } from './features/people/components/PeoplePage';
import { PersonPage } from './features/people/components/PersonPage';
import { HistoryPage } from './features/history/components/HistoryPage';
import { ReviewPage } from './features/review/components/ReviewPage';
import { SessionProvider } from './features/auth/components/SessionProvider';
import { useSession } from './features/auth/session-context';
import { OrganiserButton } from './features/auth/components/OrganiserButton';
import { describeLive, describeStatus } from './lib/status';
import { useStatus } from './hooks/useStatus';
import Alert from '@mui/material/Alert';
import { MyPhotosPage } from './features/visitor/components/MyPhotosPage';
import { savedIdFromPath } from './features/visitor/api/visitor';

export const CLOSED_TEXT = 'The search for this event has closed.';

function pageParam(params: URLSearchParams): number {
  const n = Number.parseInt(params.get('page') ?? '1', 10);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

/**
 * The sections. People is left out for a visitor where the people pages are the organiser's
 * (people_page = "organiser"): they would only meet the login form (and a 401 in the console).
 * The organiser's way in is the Organiser button.
 */
function SectionTabs({ section, navigate }: { section: 'search' | 'people' | 'history'; navigate: (to: string) => void }) {
  const { session, organiser } = useSession();
  const showPeople = organiser || session?.people_page === 'public';
  return (
    <Tabs
      value={showPeople || section !== 'people' ? section : false}
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
      {showPeople && (
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
      )}
      {(organiser || section === 'history') && (
        <Tab
          value="history"
          label="History"
          icon={<HistoryIcon fontSize="small" />}
          iconPosition="start"
          component="a"
          href="#/history"
          onClick={(e: React.MouseEvent) => {
            e.preventDefault();
            navigate('/history');
          }}
        />
      )}
    </Tabs>
  );
}

export default function App() {
  return (
    <SessionProvider>
      <Site />
    </SessionProvider>
  );
}

function Site() {
  const [route, navigate] = useHashRoute();
  // Polled (only decoration: the page works without it): photos may arrive during the event.
  const { status } = useStatus();

  const section: 'search' | 'people' | 'history' =
    route.segments[0] === 'people' ? 'people' : route.segments[0] === 'history' ? 'history' : 'search';
  const savedId = section === 'search' ? savedIdFromPath(window.location.pathname) : null;
  const reviewing = section === 'people' && route.segments[1] === 'review';
  const personId = section === 'people' && route.segments[1] && !reviewing ? Number.parseInt(route.segments[1], 10) : null;
  const page = pageParam(route.params);

  useEffect(() => {
    window.scrollTo?.({ top: 0 });
  }, [route.path]);

  const statusLine = status ? describeStatus(status) : null;
  const liveLine = describeLive(status?.live);

  return (
    <>
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
              <SectionTabs section={section} navigate={navigate} />
              <OrganiserButton />
            </Toolbar>
          </Container>
        </AppBar>

        <Container component="main" maxWidth="lg" sx={{ py: { xs: 2, sm: 4 }, flexGrow: 1 }}>
          {status?.search_closed && (
            <Alert severity="info" sx={{ mb: 2 }} data-testid="search-closed">
              {CLOSED_TEXT}
            </Alert>
          )}
          {/* /me/<id>: a visitor's saved search ("My photos"); served the same page by nginx and the app. */}
          {savedId !== null ? (
            <MyPhotosPage savedId={savedId} />
          ) : (
            // The search page stays mounted so its samples and results survive a visit to People.
            <Box hidden={section !== 'search'}>
              <AccessGate>
                <SearchPage statusLine={statusLine} liveLine={liveLine} />
              </AccessGate>
            </Box>
          )}
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
          {section === 'history' && <HistoryPage />}
        </Container>

        <Box component="footer" sx={{ py: 3, textAlign: 'center', color: 'text.secondary' }}>
          <Typography variant="caption">
            FaceExplore — self-hosted face search.
            {status?.model ? ` Model: ${status.model}.` : ''}
          </Typography>
        </Box>
      </Box>
    </>
  );
}
