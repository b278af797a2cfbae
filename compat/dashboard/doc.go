// Package dashboard serves qlite's web UI, the counterpart of Qdrant's
// dashboard, at /dashboard: collections and their configuration and
// memory, a point browser, a query console with the query's plan, a 2-D
// projection of a sample of a collection's vectors, and the server's
// metrics.
//
// The UI is plain HTML, CSS and JavaScript modules embedded in the binary:
// it loads nothing from elsewhere and works offline. Its files are served
// without an API key, as Qdrant serves its dashboard; every API call the
// UI makes sends the key the user entered, kept in the browser's
// localStorage. Handler is stateless and safe for concurrent use.
package dashboard
