-- The provider registry (`umgate provider import`): requesting providers on file. A plan that
-- requires it (`require_provider_on_file`) rejects requests from other NPIs with AAA 51 at 2010B.
-- `plans` holds the plan keys the provider is on file with, separated by ';', or '*' for every plan.
CREATE TABLE providers (
    npi   TEXT PRIMARY KEY NOT NULL,
    name  TEXT NOT NULL,
    tin   TEXT,
    plans TEXT NOT NULL
);
