"""Print a CloudFormation/SAM template (YAML with short-form tags) as JSON, as cfn-lint reads it."""
import json
import sys

from cfnlint.decode import decode

template, matches = decode(sys.argv[1])
if matches:
    sys.exit("\n".join(str(m) for m in matches))
json.dump(template, sys.stdout, indent=1, default=str)
