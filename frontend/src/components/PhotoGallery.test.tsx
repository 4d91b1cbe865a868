import { screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { photo } from '../test/fixtures';
import { renderWithTheme } from '../test/utils';
import lightGallery from 'lightgallery';
import { LICENSE_KEY } from './lightgallery-licence';
import { PhotoGallery } from './PhotoGallery';

describe('PhotoGallery', () => {
  it('outlines the face and gives lightGallery the size of a photo whose size is known', () => {
    renderWithTheme(<PhotoGallery photos={[photo(7, 'group/bbt4.jpg')]} label="Results" />);
    const tile = within(screen.getByRole('region', { name: 'Results' })).getByRole('link');
    expect(tile).toHaveAttribute('data-lg-size', '1200-800');
    expect(within(tile).getByTestId('face-box')).toBeInTheDocument();
  });

  it('labels the match badge on a thumbnail, never a bare percentage', () => {
    renderWithTheme(<PhotoGallery photos={[photo(7, 'group/bbt4.jpg', 0.99)]} label="Results" />);
    const tile = within(screen.getByRole('region', { name: 'Results' })).getByRole('link');
    expect(within(tile).getByTestId('match-badge')).toHaveTextContent(/^99% match$/);
    // The visible words are part of the link's name (axe: label-content-name-mismatch).
    expect(tile).toHaveAccessibleName('Open photo group/bbt4.jpg, 99% match');
  });

  it('shows a photo of unknown size (width and height null) whole, without a face box', () => {
    const unread = { ...photo(8, 'broken/x.jpg', null), width: null, height: null };
    renderWithTheme(<PhotoGallery photos={[unread]} label="Results" />);
    const tile = within(screen.getByRole('region', { name: 'Results' })).getByRole('link');
    expect(tile).not.toHaveAttribute('data-lg-size');
    expect(within(tile).queryByTestId('face-box')).not.toBeInTheDocument();
    expect(within(tile).getByRole('img', { name: 'Photo broken/x.jpg' })).toHaveStyle({ objectFit: 'contain' });
  });

  it('gives lightGallery a key for its GPLv3 use, not the trial key it warns about', () => {
    // the real lightGallery (only its React wrapper is mocked in the tests)
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const element = document.createElement('div');
    document.body.append(element);
    const gallery = lightGallery(element, { licenseKey: LICENSE_KEY });
    const said = [...warn.mock.calls, ...error.mock.calls].map((args) => args.join(' '));
    gallery.destroy();
    element.remove();
    warn.mockRestore();
    error.mockRestore();
    expect(LICENSE_KEY).toBe('GPLv3');
    expect(said.filter((text) => /licen[cs]e/i.test(text))).toEqual([]);
  });
});
