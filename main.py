"""CityFrame entry point (placeholder; the CLI lands with issue 2)."""


def main(argv=None) -> int:
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
