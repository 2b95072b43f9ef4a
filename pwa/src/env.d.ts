/** Types for what Vite resolves at build time (`?url` imports). */
/// <reference types="vite/client" />
