-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "egressHosts" TEXT[] DEFAULT ARRAY[]::TEXT[];
