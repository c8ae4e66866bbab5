#!/usr/bin/env bash
# Create the security group cluster/aws-gpu.yaml uses: SSH from one CIDR, and all traffic between
# the cluster's own nodes; nothing else reaches the cluster from outside.
#   cluster/aws-security-group.sh 203.0.113.7/32 [vpc-id] [region]
set -euo pipefail
cidr=${1:?usage: $0 YOUR-CIDR [vpc-id] [region]}
region=${3:-us-west-2}
vpc=${2:-$(aws ec2 describe-vpcs --region "$region" --filters Name=isDefault,Values=true \
  --query 'Vpcs[0].VpcId' --output text)}
sg=$(aws ec2 create-security-group --region "$region" --vpc-id "$vpc" --group-name ray-gpei \
  --description "ray-gpei: SSH from $cidr, intra-cluster traffic" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --region "$region" --group-id "$sg" --protocol tcp --port 22 --cidr "$cidr"
aws ec2 authorize-security-group-ingress --region "$region" --group-id "$sg" --protocol all --source-group "$sg"
echo "$sg"
