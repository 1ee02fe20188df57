-- Runs once, on an empty data volume (docker-entrypoint-initdb.d): one database per service,
-- owned by POSTGRES_USER. No service reads another service's database.
CREATE DATABASE clearway_ledger;
CREATE DATABASE clearway_authorization;
CREATE DATABASE clearway_funding;
CREATE DATABASE clearway_payout;
CREATE DATABASE clearway_reconciliation;
