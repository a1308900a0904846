"""USB transfer for terminals with no link: export the unsent documents to a signed bundle,
import the bundle wherever ERPNext is reachable (docs/agent.md, "USB transfer")."""
