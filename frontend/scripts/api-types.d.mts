export const OPENAPI_FILE: string;
export const API_TYPES_FILE: string;
export function renderApiTypes(): Promise<string>;
