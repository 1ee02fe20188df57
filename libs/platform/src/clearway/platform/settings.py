"""Settings every service shares; each service subclasses with its own env prefix.

Shared infrastructure (`KAFKA_BOOTSTRAP_SERVERS`) is read without the service prefix so
one variable points every service at the same broker, as ARCHITECTURE.md documents.
"""

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_USER_TOKEN_ISSUER = "clearway"  # noqa: S105 (a token claim, not a secret)
DEFAULT_USER_TOKEN_AUDIENCE = "clearway-wallet"  # noqa: S105 (a token claim, not a secret)


class ServiceSettings(BaseSettings):
    """Base for `CLEARWAY_<NAME>_*` settings. Subclasses set `model_config` with their prefix."""

    model_config = SettingsConfigDict(env_prefix="CLEARWAY_", extra="ignore", populate_by_name=True)

    service_name: str = "clearway"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "CLEARWAY_KAFKA_BOOTSTRAP_SERVERS"),
    )
    # Prepended to every consumer group id: two platforms sharing one Kafka cluster (a test
    # platform beside `make run`, staging beside production) must not split each other's partitions.
    kafka_consumer_group_prefix: str = Field(
        default="",
        max_length=100,
        validation_alias=AliasChoices("KAFKA_CONSUMER_GROUP_PREFIX", "CLEARWAY_KAFKA_CONSUMER_GROUP_PREFIX"),
    )
    # Short timeouts make group joins fast on the embedded broker; production raises them.
    kafka_session_timeout_ms: int = Field(default=6_000, ge=1_000)
    kafka_heartbeat_interval_ms: int = Field(default=500, ge=100)
    kafka_enable_idempotence: bool = Field(
        default=False,
        validation_alias=AliasChoices("KAFKA_ENABLE_IDEMPOTENCE", "CLEARWAY_KAFKA_ENABLE_IDEMPOTENCE"),
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    # JSON list of {"name", "key_sha256", "roles"}: keys are stored hashed, never in clear.
    api_keys_json: str = Field(
        default="[]", validation_alias=AliasChoices("CLEARWAY_API_KEYS", "CLEARWAY_API_KEYS_JSON")
    )
    # The same JSON list in a file, re-read when it changes (at most every few seconds), so keys rotate
    # without a restart: add the new key beside the old one, move clients over, then drop the old one.
    api_keys_file: str | None = Field(default=None, validation_alias=AliasChoices("CLEARWAY_API_KEYS_FILE"))
    # Admission (admission.py): requests served at once before answering 503 OVERLOADED, and the
    # default requests per second per key (a key entry's `rate_limit_per_s` overrides it; unset: none).
    http_inflight_max: int | None = Field(default=1_000, ge=1, le=1_000_000)
    # On SIGTERM, how long in-flight requests may take to finish before the service exits anyway
    # (the devstack passes uvicorn the same bound: 5 s).
    shutdown_grace_s: int = Field(default=10, ge=0, le=300)
    rate_limit_per_key_per_s: float | None = Field(default=None, gt=0, le=1_000_000)
    # A plain admin key for local development (`make run` generates one); hashed at start-up.
    dev_api_key: str | None = Field(default=None, validation_alias=AliasChoices("CLEARWAY_DEV_API_KEY"))
    # A second local principal (approver and operator), so dual approval works on the embedded stack.
    dev_approver_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("CLEARWAY_DEV_APPROVER_API_KEY")
    )
    # End-user tokens (clearway.platform.user_tokens): at most one key source; none = not accepted.
    # Production: the identity provider's JWKS URL or one PEM public key (RS256/ES256).
    user_token_jwks_url: str | None = Field(default=None, validation_alias=AliasChoices("CLEARWAY_USER_TOKEN_JWKS_URL"))
    user_token_public_key_pem: str | None = Field(
        default=None, validation_alias=AliasChoices("CLEARWAY_USER_TOKEN_PUBLIC_KEY")
    )
    # The embedded stack's HS256 secret (`make run` generates one; `make user-token` signs with it).
    user_token_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CLEARWAY_USER_TOKEN_SECRET")
    )
    user_token_issuer: str = Field(
        default=DEFAULT_USER_TOKEN_ISSUER, min_length=1, validation_alias=AliasChoices("CLEARWAY_USER_TOKEN_ISSUER")
    )
    user_token_audience: str = Field(
        default=DEFAULT_USER_TOKEN_AUDIENCE,
        min_length=1,
        validation_alias=AliasChoices("CLEARWAY_USER_TOKEN_AUDIENCE"),
    )
    outbox_poll_interval_ms: int = Field(default=500, ge=10, le=60_000)
    outbox_batch_size_max: int = Field(default=500, ge=1, le=10_000)
    # Publish the outbox from a child process (relay_process.py) instead of this one, so publishing
    # runs on another core. Off by default: on the 2-core bench machine, where PostgreSQL and the load
    # generator already use the second core, it measured neutral for the ledger (docs/ledger-performance.md).
    outbox_relay_process: bool = False
    consumer_retry_attempts_max: int = Field(default=5, ge=1, le=50)
    consumer_retry_backoff_ms: int = Field(default=100, ge=1, le=60_000)
