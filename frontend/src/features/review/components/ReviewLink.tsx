import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import { getReview } from '../api/review';
import { plural } from '../../../lib/format';
import { useLoad } from '../../people/components/usePaged';

/** On the People page (organiser): how many review questions are worth answering, and the way there. */
export function ReviewLink({ version }: { version: number }) {
  const { data } = useLoad(`review-count:${version}`, (signal) => getReview(1, signal));
  if (!data || data.worth_answering === 0) return null;
  return (
    <Alert
      severity="info"
      variant="outlined"
      data-testid="review-link"
      action={
        <Button color="inherit" size="small" href="#/people/review">
          Review
        </Button>
      }
    >
      {plural(data.worth_answering, 'question')} worth answering: each answer improves who visitors find.
    </Alert>
  );
}
