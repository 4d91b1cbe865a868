import Chip from '@mui/material/Chip';
import Tooltip from '@mui/material/Tooltip';
import WarningAmberRoundedIcon from '@mui/icons-material/WarningAmberRounded';
import { humanizeFlag } from '../../../lib/format';

const FLAG_HELP: Record<string, string> = {
  may_be_two_people: 'The faces in this group are spread out: it may mix two different people.',
};

export function FlagChips({ flags, size = 'small' }: { flags: string[]; size?: 'small' | 'medium' }) {
  if (!flags?.length) return null;
  return (
    <>
      {flags.map((flag) => (
        <Tooltip key={flag} title={FLAG_HELP[flag] ?? humanizeFlag(flag)}>
          <Chip
            size={size}
            color="warning"
            variant="outlined"
            icon={<WarningAmberRoundedIcon />}
            label={humanizeFlag(flag)}
            data-testid="flag-chip"
          />
        </Tooltip>
      ))}
    </>
  );
}
